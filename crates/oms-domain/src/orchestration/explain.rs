//! Traces as plain sentences, for store staff and customer service, in
//! English, French or German.
//!
//! The sentences follow the trace: a summary, each choice and why it won,
//! then every candidate that was not used and why, then the lines that
//! cannot be served. They name locations by id and lines by number, and
//! never show internal codes.

use serde::{Deserialize, Serialize};

use super::rules::{CriterionKind, Rule};
use super::trace::{
    Decision, DropReason, PlannedLine, Pool, Score, Trace, UnservableReason, Verdict,
};
use crate::model::{DeliveryMethod, LocationKind, ProductType};

/// A language for explanations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    En,
    Fr,
    De,
}

/// The trace as sentences, in order: summary, choices, candidates not used,
/// lines not served.
pub fn explain(trace: &Trace, lang: Lang) -> Vec<String> {
    let mut out = Vec::new();
    let kept = trace
        .candidates
        .iter()
        .filter(|c| matches!(c.verdict, Verdict::Kept { .. }))
        .count();
    let n = trace.candidates.len();
    let method = method_name(trace.delivery, lang);
    out.push(match lang {
        Lang::En => format!(
            "Order {} ({method}, channel {}, rule set version {}): {n} candidate location(s) considered, {kept} kept.",
            trace.order, trace.channel, trace.rule_set_version
        ),
        Lang::Fr => format!(
            "Commande {} ({method}, canal {}, règles version {}) : {n} emplacement(s) examiné(s), {kept} retenu(s).",
            trace.order, trace.channel, trace.rule_set_version
        ),
        Lang::De => format!(
            "Bestellung {} ({method}, Kanal {}, Regelwerk Version {}): {n} Standort(e) geprüft, {kept} behalten.",
            trace.order, trace.channel, trace.rule_set_version
        ),
    });
    if let Some(reason) = trace.blocked {
        let reason = unservable_phrase(reason, lang);
        out.push(match lang {
            Lang::En => format!("No location could be considered: {reason}."),
            Lang::Fr => format!("Aucun emplacement n'a pu être examiné : {reason}."),
            Lang::De => format!("Kein Standort kam in Frage: {reason}."),
        });
    }
    for decision in &trace.decisions {
        out.push(decision_sentence(decision, trace.delivery, lang));
    }
    if trace.fell_back_to_fewest_shipments {
        out.push(
            match lang {
                Lang::En => "Following the ordering alone would have left units unserved, so the plan with the fewest shipments was used.",
                Lang::Fr => "L'ordre de préférence seul aurait laissé des articles non servis : le plan avec le moins d'envois a été retenu.",
                Lang::De => "Die Rangfolge allein hätte Artikel unbedient gelassen, daher wurde der Plan mit den wenigsten Sendungen gewählt.",
            }
            .to_owned(),
        );
    }
    for candidate in &trace.candidates {
        let location = &candidate.location;
        let kind = kind_name(candidate.kind, lang);
        match &candidate.verdict {
            Verdict::Dropped { rule, reason } => {
                let rule = rule_name(*rule, lang);
                let reason = drop_phrase(reason, lang);
                out.push(match lang {
                    Lang::En => {
                        format!("{location} ({kind}) was not used: {reason} (rule: {rule}).")
                    }
                    Lang::Fr => format!(
                        "{location} ({kind}) n'a pas été retenu : {reason} (règle : {rule})."
                    ),
                    Lang::De => format!(
                        "{location} ({kind}) wurde nicht genutzt: {reason} (Regel: {rule})."
                    ),
                });
            }
            Verdict::Kept {
                score,
                excluded_lines,
            } => {
                for exclusion in excluded_lines {
                    let reason = drop_phrase(&exclusion.reason, lang);
                    let line = exclusion.line;
                    out.push(match lang {
                        Lang::En => format!("{location} may not serve line {line}: {reason}."),
                        Lang::Fr => {
                            format!("{location} ne peut pas servir la ligne {line} : {reason}.")
                        }
                        Lang::De => {
                            format!("{location} darf Position {line} nicht bedienen: {reason}.")
                        }
                    });
                }
                if !trace.decisions.iter().any(|d| &d.location == location) {
                    let summary = score_summary(score, lang);
                    out.push(match lang {
                        Lang::En => format!("{location} ({kind}) could also serve ({summary}) but was not chosen."),
                        Lang::Fr => format!("{location} ({kind}) pouvait aussi servir ({summary}) mais n'a pas été choisi."),
                        Lang::De => format!("{location} ({kind}) hätte ebenfalls liefern können ({summary}), wurde aber nicht gewählt."),
                    });
                }
            }
        }
    }
    for line in &trace.unservable {
        let reason = unservable_phrase(line.reason, lang);
        let (id, sku, missing, requested) = (line.line, &line.sku, line.missing, line.requested);
        let mut sentence = match lang {
            Lang::En => format!(
                "Line {id} ({sku}): {missing} of {requested} unit(s) cannot be served: {reason}."
            ),
            Lang::Fr => format!(
                "Ligne {id} ({sku}) : {missing} article(s) sur {requested} ne peuvent pas être servis : {reason}."
            ),
            Lang::De => format!(
                "Position {id} ({sku}): {missing} von {requested} Stück können nicht geliefert werden: {reason}."
            ),
        };
        if !line.dropped.is_empty() {
            let parts: Vec<String> = line
                .dropped
                .iter()
                .map(|d| format!("{} × {}", d.locations, rule_name(d.rule, lang)))
                .collect();
            sentence.pop();
            sentence.push_str(&match lang {
                Lang::En => format!(" (locations holding it and dropped: {}).", parts.join(", ")),
                Lang::Fr => format!(
                    " (emplacements l'ayant en stock écartés : {}).",
                    parts.join(", ")
                ),
                Lang::De => format!(
                    " (Standorte mit Bestand ausgeschlossen: {}).",
                    parts.join(", ")
                ),
            });
        }
        out.push(sentence);
    }
    out
}

fn lines_phrase(lines: &[PlannedLine], lang: Lang) -> String {
    let word = match lang {
        Lang::En => "line",
        Lang::Fr => "ligne",
        Lang::De => "Position",
    };
    lines
        .iter()
        .map(|l| format!("{word} {} × {}", l.line, l.quantity))
        .collect::<Vec<_>>()
        .join(", ")
}

fn decision_sentence(d: &Decision, method: DeliveryMethod, lang: Lang) -> String {
    let location = &d.location;
    let lines = lines_phrase(&d.lines, lang);
    let why = match (&d.runner_up, d.decided_by) {
        (None, _) => match (d.pool, lang) {
            (Pool::WholeOrder, Lang::En) => "it is the only location that can serve everything in one shipment".to_owned(),
            (Pool::WholeOrder, Lang::Fr) => "c'est le seul emplacement qui peut tout servir en un seul envoi".to_owned(),
            (Pool::WholeOrder, Lang::De) => "er ist der einzige Standort, der alles in einer Sendung liefern kann".to_owned(),
            (Pool::RemainingLines, Lang::En) => "it is the only location left that can supply these lines".to_owned(),
            (Pool::RemainingLines, Lang::Fr) => "c'est le seul emplacement restant qui peut fournir ces lignes".to_owned(),
            (Pool::RemainingLines, Lang::De) => "er ist der einzige verbleibende Standort, der diese Positionen liefern kann".to_owned(),
            (Pool::MostOfOrder, Lang::En) => "no location can serve the whole order and splitting is not allowed; it is the only one that can serve part of it".to_owned(),
            (Pool::MostOfOrder, Lang::Fr) => "aucun emplacement ne peut servir toute la commande et le fractionnement est interdit ; c'est le seul qui peut en servir une partie".to_owned(),
            (Pool::MostOfOrder, Lang::De) => "kein Standort kann die ganze Bestellung liefern und Teilen ist nicht erlaubt; er ist der einzige, der einen Teil liefern kann".to_owned(),
        },
        (Some(runner), decided_by) => {
            let n = d.contenders;
            let pool = match (d.pool, lang) {
                (Pool::WholeOrder, Lang::En) => format!("among {n} locations that can serve everything in one shipment, "),
                (Pool::WholeOrder, Lang::Fr) => format!("parmi {n} emplacements pouvant tout servir en un seul envoi, "),
                (Pool::WholeOrder, Lang::De) => format!("unter {n} Standorten, die alles in einer Sendung liefern können, "),
                (Pool::RemainingLines, Lang::En) => format!("among {n} locations that can supply what was left, "),
                (Pool::RemainingLines, Lang::Fr) => format!("parmi {n} emplacements pouvant fournir le reste, "),
                (Pool::RemainingLines, Lang::De) => format!("unter {n} Standorten, die den Rest liefern können, "),
                (Pool::MostOfOrder, Lang::En) => format!("no location can serve the whole order and splitting is not allowed; among {n} locations, "),
                (Pool::MostOfOrder, Lang::Fr) => format!("aucun emplacement ne peut servir toute la commande et le fractionnement est interdit ; parmi {n} emplacements, "),
                (Pool::MostOfOrder, Lang::De) => format!("kein Standort kann die ganze Bestellung liefern und Teilen ist nicht erlaubt; unter {n} Standorten "),
            };
            let other = &runner.location;
            let reason = match decided_by {
                Some(criterion) => criterion_phrase(criterion, &d.score, &runner.score, other, method, lang),
                None => match lang {
                    Lang::En => format!("it ties with {other} on every criterion and its location code comes first"),
                    Lang::Fr => format!("il est à égalité avec {other} sur tous les critères et son code vient en premier"),
                    Lang::De => format!("er ist mit {other} in allen Kriterien gleichauf und sein Standortcode kommt zuerst"),
                },
            };
            format!("{pool}{reason}")
        }
    };
    match lang {
        Lang::En => format!("{location} serves {lines}: {why}."),
        Lang::Fr => format!("{location} sert {lines} : {why}."),
        Lang::De => format!("{location} liefert {lines}: {why}."),
    }
}

fn km(metres: u32) -> String {
    format!("{:.1}", f64::from(metres) / 1000.0)
}

fn criterion_phrase(
    criterion: CriterionKind,
    a: &Score,
    b: &Score,
    other: &crate::model::LocationId,
    method: DeliveryMethod,
    lang: Lang,
) -> String {
    let pickup = matches!(
        method,
        DeliveryMethod::ClickAndCollect | DeliveryMethod::ExpressClickAndCollect
    );
    match (criterion, lang) {
        (CriterionKind::Priority, Lang::En) => format!(
            "its priority {} comes before {other}'s {}",
            a.priority, b.priority
        ),
        (CriterionKind::Priority, Lang::Fr) => format!(
            "sa priorité {} passe avant celle de {other} ({})",
            a.priority, b.priority
        ),
        (CriterionKind::Priority, Lang::De) => format!(
            "seine Priorität {} geht vor der von {other} ({})",
            a.priority, b.priority
        ),
        (CriterionKind::Distance, Lang::En) => format!(
            "it is {} km from the destination, {other} is {} km",
            km(a.distance_m),
            km(b.distance_m)
        ),
        (CriterionKind::Distance, Lang::Fr) => format!(
            "il est à {} km de la destination, {other} à {} km",
            km(a.distance_m),
            km(b.distance_m)
        ),
        (CriterionKind::Distance, Lang::De) => format!(
            "er ist {} km vom Ziel entfernt, {other} {} km",
            km(a.distance_m),
            km(b.distance_m)
        ),
        (CriterionKind::FewestShipments, Lang::En) => format!(
            "it covers {} line(s) in full ({} units), {other} covers {} ({} units)",
            a.lines_covered, a.units_covered, b.lines_covered, b.units_covered
        ),
        (CriterionKind::FewestShipments, Lang::Fr) => format!(
            "il couvre {} ligne(s) entières ({} articles), {other} en couvre {} ({} articles)",
            a.lines_covered, a.units_covered, b.lines_covered, b.units_covered
        ),
        (CriterionKind::FewestShipments, Lang::De) => format!(
            "er deckt {} Position(en) vollständig ab ({} Stück), {other} {} ({} Stück)",
            a.lines_covered, a.units_covered, b.lines_covered, b.units_covered
        ),
        (CriterionKind::StockDepth, Lang::En) => format!(
            "it keeps at least {} unit(s) afterwards, {other} would keep {}",
            a.stock_left, b.stock_left
        ),
        (CriterionKind::StockDepth, Lang::Fr) => format!(
            "il garde au moins {} article(s) ensuite, {other} en garderait {}",
            a.stock_left, b.stock_left
        ),
        (CriterionKind::StockDepth, Lang::De) => format!(
            "er behält danach mindestens {} Stück, {other} würde {} behalten",
            a.stock_left, b.stock_left
        ),
        (CriterionKind::Cost, lang) => {
            let money = |s: &Score| s.cost.map_or_else(|| "?".to_owned(), |m| m.to_string());
            match lang {
                Lang::En => format!("its shipment costs {}, {other}'s {}", money(a), money(b)),
                Lang::Fr => format!(
                    "son envoi coûte {}, celui de {other} {}",
                    money(a),
                    money(b)
                ),
                Lang::De => format!(
                    "seine Sendung kostet {}, die von {other} {}",
                    money(a),
                    money(b)
                ),
            }
        }
        (CriterionKind::EarliestDelivery, lang) => {
            let when = |s: &Score| match (s.ready_at, s.expected_date) {
                (Some(ready), _) => ready.to_string(),
                (None, Some(date)) => date.to_string(),
                (None, None) => "?".to_owned(),
            };
            match (lang, pickup) {
                (Lang::En, true) => format!(
                    "it has the order ready at {}, {other} at {}",
                    when(a),
                    when(b)
                ),
                (Lang::En, false) => format!("it delivers on {}, {other} on {}", when(a), when(b)),
                (Lang::Fr, true) => format!(
                    "la commande y est prête à {}, chez {other} à {}",
                    when(a),
                    when(b)
                ),
                (Lang::Fr, false) => format!("il livre le {}, {other} le {}", when(a), when(b)),
                (Lang::De, true) => format!(
                    "die Bestellung ist dort um {} bereit, bei {other} um {}",
                    when(a),
                    when(b)
                ),
                (Lang::De, false) => format!("er liefert am {}, {other} am {}", when(a), when(b)),
            }
        }
    }
}

fn score_summary(s: &Score, lang: Lang) -> String {
    match lang {
        Lang::En => format!(
            "priority {}, {} km, {} line(s) in full",
            s.priority,
            km(s.distance_m),
            s.lines_covered
        ),
        Lang::Fr => format!(
            "priorité {}, {} km, {} ligne(s) entières",
            s.priority,
            km(s.distance_m),
            s.lines_covered
        ),
        Lang::De => format!(
            "Priorität {}, {} km, {} vollständige Position(en)",
            s.priority,
            km(s.distance_m),
            s.lines_covered
        ),
    }
}

fn method_name(method: DeliveryMethod, lang: Lang) -> &'static str {
    match (method, lang) {
        (DeliveryMethod::HomeDelivery, Lang::En) => "home delivery",
        (DeliveryMethod::HomeDelivery, Lang::Fr) => "livraison à domicile",
        (DeliveryMethod::HomeDelivery, Lang::De) => "Lieferung nach Hause",
        (DeliveryMethod::PickupPoint, Lang::En) => "pickup point",
        (DeliveryMethod::PickupPoint, Lang::Fr) => "point relais",
        (DeliveryMethod::PickupPoint, Lang::De) => "Abholstation",
        (DeliveryMethod::ClickAndCollect, Lang::En) => "click & collect",
        (DeliveryMethod::ClickAndCollect, Lang::Fr) => "retrait en magasin",
        (DeliveryMethod::ClickAndCollect, Lang::De) => "Click & Collect",
        (DeliveryMethod::ExpressClickAndCollect, Lang::En) => "express click & collect",
        (DeliveryMethod::ExpressClickAndCollect, Lang::Fr) => "retrait express en magasin",
        (DeliveryMethod::ExpressClickAndCollect, Lang::De) => "Express Click & Collect",
    }
}

fn kind_name(kind: LocationKind, lang: Lang) -> &'static str {
    match (kind, lang) {
        (LocationKind::Warehouse, Lang::En) => "warehouse",
        (LocationKind::Warehouse, Lang::Fr) => "entrepôt",
        (LocationKind::Warehouse, Lang::De) => "Lager",
        (LocationKind::Store, Lang::En) => "store",
        (LocationKind::Store, Lang::Fr) => "magasin",
        (LocationKind::Store, Lang::De) => "Filiale",
        (LocationKind::DistributionCentre, Lang::En) => "distribution centre",
        (LocationKind::DistributionCentre, Lang::Fr) => "centre de distribution",
        (LocationKind::DistributionCentre, Lang::De) => "Verteilzentrum",
        (LocationKind::DropShipper, Lang::En) => "drop-shipper",
        (LocationKind::DropShipper, Lang::Fr) => "fournisseur en livraison directe",
        (LocationKind::DropShipper, Lang::De) => "Streckenlieferant",
    }
}

fn product_type_name(product_type: ProductType, lang: Lang) -> &'static str {
    match (product_type, lang) {
        (ProductType::Standard, Lang::En) => "standard",
        (ProductType::Standard, Lang::Fr) => "standard",
        (ProductType::Standard, Lang::De) => "Standard",
        (ProductType::Bulky, Lang::En) => "bulky",
        (ProductType::Bulky, Lang::Fr) => "volumineux",
        (ProductType::Bulky, Lang::De) => "sperrig",
        (ProductType::Fragile, Lang::En) => "fragile",
        (ProductType::Fragile, Lang::Fr) => "fragile",
        (ProductType::Fragile, Lang::De) => "zerbrechlich",
    }
}

fn rule_name(rule: Rule, lang: Lang) -> &'static str {
    match (rule, lang) {
        (Rule::ActivePeriod, Lang::En) => "active period",
        (Rule::ActivePeriod, Lang::Fr) => "période active",
        (Rule::ActivePeriod, Lang::De) => "aktiver Zeitraum",
        (Rule::Capability, Lang::En) => "capability",
        (Rule::Capability, Lang::Fr) => "capacité",
        (Rule::Capability, Lang::De) => "Fähigkeit",
        (Rule::ProductType, Lang::En) => "product type",
        (Rule::ProductType, Lang::Fr) => "type de produit",
        (Rule::ProductType, Lang::De) => "Produkttyp",
        (Rule::Stock, Lang::En) => "stock",
        (Rule::Stock, Lang::Fr) => "stock",
        (Rule::Stock, Lang::De) => "Bestand",
        (Rule::DailyCap, Lang::En) => "daily cap",
        (Rule::DailyCap, Lang::Fr) => "plafond journalier",
        (Rule::DailyCap, Lang::De) => "Tageslimit",
        (Rule::OrderAmount, Lang::En) => "order amount",
        (Rule::OrderAmount, Lang::Fr) => "montant de commande",
        (Rule::OrderAmount, Lang::De) => "Bestellwert",
        (Rule::DeliveryZone, Lang::En) => "delivery zone",
        (Rule::DeliveryZone, Lang::Fr) => "zone de livraison",
        (Rule::DeliveryZone, Lang::De) => "Liefergebiet",
        (Rule::ExpressOpening, Lang::En) => "express opening hours",
        (Rule::ExpressOpening, Lang::Fr) => "horaires express",
        (Rule::ExpressOpening, Lang::De) => "Express-Öffnungszeiten",
        (Rule::ReportedMissing, Lang::En) => "reported missing",
        (Rule::ReportedMissing, Lang::Fr) => "signalé manquant",
        (Rule::ReportedMissing, Lang::De) => "als fehlend gemeldet",
    }
}

fn drop_phrase(reason: &DropReason, lang: Lang) -> String {
    use DropReason as D;
    match (reason, lang) {
        (D::LeftChannelForPeriod, Lang::En) => "a period takes it out of this channel now".into(),
        (D::LeftChannelForPeriod, Lang::Fr) => {
            "une période le retire de ce canal en ce moment".into()
        }
        (D::LeftChannelForPeriod, Lang::De) => {
            "ein Zeitraum nimmt ihn derzeit aus diesem Kanal".into()
        }
        (D::CannotShip, Lang::En) => "it does not ship parcels".into(),
        (D::CannotShip, Lang::Fr) => "il n'expédie pas de colis".into(),
        (D::CannotShip, Lang::De) => "er versendet keine Pakete".into(),
        (D::NotThePickupStore, Lang::En) => {
            "express click & collect is served from the pickup store's own shelf only".into()
        }
        (D::NotThePickupStore, Lang::Fr) => {
            "le retrait express se sert uniquement du stock du magasin de retrait".into()
        }
        (D::NotThePickupStore, Lang::De) => {
            "Express Click & Collect wird nur aus dem Regal der Abholfiliale bedient".into()
        }
        (D::NoCarrierRoute, Lang::En) => "no carrier serves the route to the destination".into(),
        (D::NoCarrierRoute, Lang::Fr) => {
            "aucun transporteur ne dessert la destination depuis ce site".into()
        }
        (D::NoCarrierRoute, Lang::De) => "kein Spediteur bedient die Strecke zum Ziel".into(),
        (D::NotOpenSoon, Lang::En) => "it does not open in the coming weeks".into(),
        (D::NotOpenSoon, Lang::Fr) => "il n'ouvre pas dans les semaines à venir".into(),
        (D::NotOpenSoon, Lang::De) => "er öffnet in den nächsten Wochen nicht".into(),
        (D::ProductTypeCannotShipFrom { product_type }, lang) => {
            let t = product_type_name(*product_type, lang);
            match lang {
                Lang::En => format!("this kind of location may not ship {t} products"),
                Lang::Fr => format!("ce type d'emplacement ne peut pas expédier de produits {t}s"),
                Lang::De => format!("diese Art Standort darf keine {t}en Produkte versenden"),
            }
        }
        (D::ProductTypeRestricted { product_type }, lang) => {
            let t = product_type_name(*product_type, lang);
            match lang {
                Lang::En => format!("the rules keep {t} products to other kinds of location"),
                Lang::Fr => {
                    format!("les règles réservent les produits {t}s à d'autres types d'emplacement")
                }
                Lang::De => format!("die Regeln behalten {t}e Produkte anderen Standortarten vor"),
            }
        }
        (D::NoStock, Lang::En) => "it has no available unit of the lines it may serve".into(),
        (D::NoStock, Lang::Fr) => {
            "il n'a aucun article disponible pour les lignes qu'il peut servir".into()
        }
        (D::NoStock, Lang::De) => {
            "er hat keinen verfügbaren Artikel der Positionen, die er bedienen darf".into()
        }
        (D::NoFullLine, Lang::En) => "it cannot serve any line in full".into(),
        (D::NoFullLine, Lang::Fr) => "il ne peut servir aucune ligne en entier".into(),
        (D::NoFullLine, Lang::De) => "er kann keine Position vollständig liefern".into(),
        (D::CannotServeWholeOrder, Lang::En) => "it cannot serve the whole order".into(),
        (D::CannotServeWholeOrder, Lang::Fr) => "il ne peut pas servir toute la commande".into(),
        (D::CannotServeWholeOrder, Lang::De) => "er kann nicht die ganze Bestellung liefern".into(),
        (D::DailyCapReached { orders, cap }, Lang::En) => {
            format!("it has reached its daily cap ({orders} of {cap} orders today)")
        }
        (D::DailyCapReached { orders, cap }, Lang::Fr) => format!(
            "il a atteint son plafond journalier ({orders} commandes sur {cap} aujourd'hui)"
        ),
        (D::DailyCapReached { orders, cap }, Lang::De) => {
            format!("er hat sein Tageslimit erreicht ({orders} von {cap} Bestellungen heute)")
        }
        (D::OrderAmountAboveThreshold { amount, threshold }, Lang::En) => {
            format!("orders of {threshold} or more ({amount} here) go to other kinds of location")
        }
        (D::OrderAmountAboveThreshold { amount, threshold }, Lang::Fr) => format!(
            "les commandes de {threshold} ou plus (ici {amount}) vont à d'autres types d'emplacement"
        ),
        (D::OrderAmountAboveThreshold { amount, threshold }, Lang::De) => {
            format!("Bestellungen ab {threshold} (hier {amount}) gehen an andere Standortarten")
        }
        (
            D::OutsideDeliveryZone {
                transit_days,
                max_transit_days,
            },
            Lang::En,
        ) => format!(
            "the destination is {transit_days} carrier day(s) away, more than the {max_transit_days} allowed"
        ),
        (
            D::OutsideDeliveryZone {
                transit_days,
                max_transit_days,
            },
            Lang::Fr,
        ) => format!(
            "la destination est à {transit_days} jour(s) de transport, au-delà des {max_transit_days} permis"
        ),
        (
            D::OutsideDeliveryZone {
                transit_days,
                max_transit_days,
            },
            Lang::De,
        ) => format!(
            "das Ziel ist {transit_days} Transporttag(e) entfernt, mehr als die erlaubten {max_transit_days}"
        ),
        (D::StoreClosedForExpress { ready_at }, Lang::En) => format!(
            "it is closed or cannot prepare in time now (ready at {ready_at} at the earliest)"
        ),
        (D::StoreClosedForExpress { ready_at }, Lang::Fr) => {
            format!("il est fermé ou ne peut pas préparer à temps (prêt au plus tôt à {ready_at})")
        }
        (D::StoreClosedForExpress { ready_at }, Lang::De) => format!(
            "er ist geschlossen oder kann nicht rechtzeitig vorbereiten (frühestens bereit um {ready_at})"
        ),
        (D::ReportedMissing, Lang::En) => {
            "it already reported this item missing for this order".into()
        }
        (D::ReportedMissing, Lang::Fr) => {
            "il a déjà signalé cet article manquant pour cette commande".into()
        }
        (D::ReportedMissing, Lang::De) => {
            "er hat diesen Artikel für diese Bestellung bereits als fehlend gemeldet".into()
        }
    }
}

fn unservable_phrase(reason: UnservableReason, lang: Lang) -> &'static str {
    use UnservableReason as U;
    match (reason, lang) {
        (U::MethodNotOffered, Lang::En) => "the channel does not offer this delivery method",
        (U::MethodNotOffered, Lang::Fr) => "le canal ne propose pas ce mode de livraison",
        (U::MethodNotOffered, Lang::De) => "der Kanal bietet diese Lieferart nicht an",
        (U::NoAddress, Lang::En) => "the order has no delivery address",
        (U::NoAddress, Lang::Fr) => "la commande n'a pas d'adresse de livraison",
        (U::NoAddress, Lang::De) => "die Bestellung hat keine Lieferadresse",
        (U::NoPickupStore, Lang::En) => "the order names no pickup store",
        (U::NoPickupStore, Lang::Fr) => "la commande n'indique pas de magasin de retrait",
        (U::NoPickupStore, Lang::De) => "die Bestellung nennt keine Abholfiliale",
        (U::PickupStoreNotAStore, Lang::En) => "the pickup location is not a store",
        (U::PickupStoreNotAStore, Lang::Fr) => "le lieu de retrait n'est pas un magasin",
        (U::PickupStoreNotAStore, Lang::De) => "der Abholort ist keine Filiale",
        (U::PickupStoreCannotReceive, Lang::En) => {
            "the pickup store does not receive parcels for customers"
        }
        (U::PickupStoreCannotReceive, Lang::Fr) => {
            "le magasin de retrait ne reçoit pas de colis pour les clients"
        }
        (U::PickupStoreCannotReceive, Lang::De) => {
            "die Abholfiliale nimmt keine Pakete für Kunden an"
        }
        (U::PickupStoreNoExpress, Lang::En) => {
            "the pickup store does not offer express click & collect"
        }
        (U::PickupStoreNoExpress, Lang::Fr) => {
            "le magasin de retrait ne propose pas le retrait express"
        }
        (U::PickupStoreNoExpress, Lang::De) => {
            "die Abholfiliale bietet kein Express Click & Collect an"
        }
        (U::PickupStoreNotInChannel, Lang::En) => {
            "the pickup store does not sell for this channel at the moment"
        }
        (U::PickupStoreNotInChannel, Lang::Fr) => {
            "le magasin de retrait ne vend pas pour ce canal en ce moment"
        }
        (U::PickupStoreNotInChannel, Lang::De) => {
            "die Abholfiliale verkauft derzeit nicht für diesen Kanal"
        }
        (U::ProductTypeNotAllowed, Lang::En) => "this kind of product cannot be sent this way",
        (U::ProductTypeNotAllowed, Lang::Fr) => "ce type de produit ne peut pas être livré ainsi",
        (U::ProductTypeNotAllowed, Lang::De) => "diese Art Produkt kann so nicht geliefert werden",
        (U::OutOfStock, Lang::En) => "no location of the channel has it in stock",
        (U::OutOfStock, Lang::Fr) => "aucun emplacement du canal ne l'a en stock",
        (U::OutOfStock, Lang::De) => "kein Standort des Kanals hat es vorrätig",
        (U::NoEligibleLocation, Lang::En) => "the locations that have it may not serve this order",
        (U::NoEligibleLocation, Lang::Fr) => {
            "les emplacements qui l'ont ne peuvent pas servir cette commande"
        }
        (U::NoEligibleLocation, Lang::De) => {
            "die Standorte mit Bestand dürfen diese Bestellung nicht bedienen"
        }
        (U::InsufficientStock, Lang::En) => "the locations allowed to serve it do not have enough",
        (U::InsufficientStock, Lang::Fr) => "les emplacements autorisés n'en ont pas assez",
        (U::InsufficientStock, Lang::De) => "die zulässigen Standorte haben nicht genug",
        (U::SplitNotAllowed, Lang::En) => {
            "another shipment would be needed and the rules do not allow splitting"
        }
        (U::SplitNotAllowed, Lang::Fr) => {
            "il faudrait un autre envoi et les règles interdisent le fractionnement"
        }
        (U::SplitNotAllowed, Lang::De) => {
            "eine weitere Sendung wäre nötig, und die Regeln erlauben kein Teilen"
        }
        (U::SplitLimitReached, Lang::En) => {
            "another shipment would be needed beyond the rules' limit"
        }
        (U::SplitLimitReached, Lang::Fr) => "il faudrait un envoi de plus que la limite des règles",
        (U::SplitLimitReached, Lang::De) => {
            "eine weitere Sendung würde das Limit der Regeln überschreiten"
        }
    }
}
