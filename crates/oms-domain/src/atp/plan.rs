//! Shipment planning: which candidate locations serve which units.
//!
//! Candidates arrive sorted best first (earliest date, then priority, then
//! distance), so "the first candidate that…" is always the preferred one.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// One line: the fewest shipments, then the earliest latest date — exact.
///
/// `units[i]` is what candidate `i` can supply. Returns `(candidate, units
/// taken)` in preference order, or `None` if the candidates cannot cover
/// `requested` together.
pub(crate) fn plan_single(units: &[u64], requested: u64) -> Option<Vec<(usize, u64)>> {
    if units.iter().sum::<u64>() < requested {
        return None;
    }
    // The fewest shipments: the largest holdings first.
    let mut largest = units.to_vec();
    largest.sort_unstable_by(|a, b| b.cmp(a));
    let mut shipments = 0;
    let mut covered = 0;
    while covered < requested {
        covered += largest[shipments];
        shipments += 1;
    }
    // The shortest preference prefix whose `shipments` largest holdings
    // cover the request has the earliest possible latest date. Keep the
    // prefix's largest holdings in a min-heap (ties: keep the earlier one).
    let mut heap: BinaryHeap<Reverse<(u64, Reverse<usize>)>> = BinaryHeap::new();
    let mut sum = 0;
    for (i, &u) in units.iter().enumerate() {
        heap.push(Reverse((u, Reverse(i))));
        sum += u;
        if heap.len() > shipments
            && let Some(Reverse((smallest, _))) = heap.pop()
        {
            sum -= smallest;
        }
        if heap.len() == shipments && sum >= requested {
            let mut chosen: Vec<usize> =
                heap.into_iter().map(|Reverse((_, Reverse(i)))| i).collect();
            chosen.sort_unstable();
            let mut left = requested;
            return Some(
                chosen
                    .into_iter()
                    .map(|i| {
                        let take = units[i].min(left);
                        left -= take;
                        (i, take)
                    })
                    .collect(),
            );
        }
    }
    None
}

/// Several lines: one shipment if any candidate can serve the whole cart
/// (the preferred such candidate), otherwise a greedy set cover: repeatedly
/// take the candidate that completes the most remaining lines, then supplies
/// the most remaining units, earlier candidates winning ties. Greedy may use
/// more shipments than the optimum.
///
/// `units[c][l]` is what candidate `c` can supply of line `l`. Returns
/// `(candidate, units per line)` in preference order.
pub(crate) fn plan_cart(units: &[Vec<u64>], requested: &[u64]) -> Option<Vec<(usize, Vec<u64>)>> {
    if let Some(c) = units
        .iter()
        .position(|row| row.iter().zip(requested).all(|(have, want)| have >= want))
    {
        return Some(vec![(c, requested.to_vec())]);
    }
    let mut remaining = requested.to_vec();
    let mut used = vec![false; units.len()];
    let mut picks = Vec::new();
    while remaining.iter().any(|r| *r > 0) {
        let mut best: Option<(usize, (usize, u64))> = None;
        for (c, row) in units.iter().enumerate() {
            if used[c] {
                continue;
            }
            let completes = row
                .iter()
                .zip(&remaining)
                .filter(|(have, want)| **want > 0 && have >= want)
                .count();
            let supplies: u64 = row
                .iter()
                .zip(&remaining)
                .map(|(have, want)| (*have).min(*want))
                .sum();
            if supplies == 0 {
                continue;
            }
            let score = (completes, supplies);
            if best.is_none_or(|(_, best_score)| score > best_score) {
                best = Some((c, score));
            }
        }
        let (c, _) = best?;
        used[c] = true;
        let taken: Vec<u64> = units[c]
            .iter()
            .zip(remaining.iter_mut())
            .map(|(have, want)| {
                let take = (*have).min(*want);
                *want -= take;
                take
            })
            .collect();
        picks.push((c, taken));
    }
    picks.sort_unstable_by_key(|(c, _)| *c);
    Some(picks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_line_prefers_one_shipment_then_the_earliest() {
        // Candidates in preference (date) order.
        assert_eq!(plan_single(&[1, 5, 5], 3), Some(vec![(1, 3)]));
        assert_eq!(plan_single(&[1, 5, 5], 1), Some(vec![(0, 1)]));
        // Two shipments needed: the earliest pair that can.
        assert_eq!(plan_single(&[2, 1, 3, 4], 6), Some(vec![(2, 3), (3, 3)]));
        assert_eq!(plan_single(&[4, 1, 3, 4], 6), Some(vec![(0, 4), (2, 2)]));
        assert_eq!(plan_single(&[1, 1], 3), None);
    }

    #[test]
    fn cart_takes_one_shipment_when_one_location_has_everything() {
        let units = vec![vec![1, 0], vec![1, 1]];
        assert_eq!(plan_cart(&units, &[1, 1]), Some(vec![(1, vec![1, 1])]));
    }

    #[test]
    fn cart_splits_greedily() {
        let units = vec![vec![1, 0, 0], vec![0, 1, 1], vec![1, 1, 0]];
        let plan = plan_cart(&units, &[1, 1, 1]).unwrap();
        assert_eq!(plan, vec![(0, vec![1, 0, 0]), (1, vec![0, 1, 1])]);
        // A line split across locations.
        let units = vec![vec![2], vec![2]];
        assert_eq!(
            plan_cart(&units, &[3]),
            Some(vec![(0, vec![2]), (1, vec![1])])
        );
        assert_eq!(plan_cart(&[vec![1]], &[2]), None);
    }
}
