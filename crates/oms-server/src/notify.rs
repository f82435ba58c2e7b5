//! Customer notifications: one template per customer-visible status, in
//! English, French and German, rendered when the change is written (the
//! outbox holds the message exactly as it will be sent, so a replay sends
//! the same words).

use oms_api::wire::{CustomerStatus, Language, NotificationKind};
use serde::{Deserialize, Serialize};

/// A rendered notification, as stored in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenderedNotification {
    pub order: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fulfilment: Option<String>,
    /// A status change, or a message sent on request (a receipt).
    #[serde(default)]
    pub kind: NotificationKind,
    /// The status announced (`kind: status`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<CustomerStatus>,
    pub language: Language,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_phone: Option<String>,
    pub subject: String,
    pub body: String,
    /// Files for the e-mail service to attach (the receipt's PDF).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

/// A file attached to a message, base64-encoded (RFC 4648, with padding).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub filename: String,
    pub content_type: String,
    pub content_base64: String,
}

/// What a template may mention besides the order number.
#[derive(Debug, Clone, Default)]
pub struct Details<'a> {
    pub customer_name: &'a str,
    /// The store or warehouse concerned (its name).
    pub location: Option<&'a str>,
    pub pickup_code: Option<&'a str>,
    pub tracking: Option<&'a str>,
    /// A refund, formatted with its currency.
    pub amount: Option<&'a str>,
}

/// Subject and body of a notification.
pub fn render(
    status: CustomerStatus,
    language: Language,
    order: &str,
    details: &Details<'_>,
) -> (String, String) {
    use CustomerStatus as S;
    use Language as L;
    let name = details.customer_name;
    let place = details.location.unwrap_or("");
    let code = details.pickup_code.unwrap_or("");
    let tracking = details.tracking.unwrap_or("");
    let amount = details.amount.unwrap_or("");
    let (subject, line) = match (language, status) {
        (L::En, S::Waiting) => (
            format!("Order {order} received"),
            "We have received your order and are preparing it.".to_owned(),
        ),
        (L::Fr, S::Waiting) => (
            format!("Commande {order} reçue"),
            "Nous avons bien reçu votre commande et la préparons.".to_owned(),
        ),
        (L::De, S::Waiting) => (
            format!("Bestellung {order} eingegangen"),
            "Wir haben Ihre Bestellung erhalten und bereiten sie vor.".to_owned(),
        ),
        (L::En, S::InPreparation) => (
            format!("Order {order} in preparation"),
            format!("{place} is preparing your order."),
        ),
        (L::Fr, S::InPreparation) => (
            format!("Commande {order} en préparation"),
            format!("{place} prépare votre commande."),
        ),
        (L::De, S::InPreparation) => (
            format!("Bestellung {order} wird vorbereitet"),
            format!("{place} bereitet Ihre Bestellung vor."),
        ),
        (L::En, S::ReadyToPickUp) => (
            format!("Order {order} is ready to pick up"),
            format!("Your order is waiting for you at {place}. Your pickup code: {code}."),
        ),
        (L::Fr, S::ReadyToPickUp) => (
            format!("Commande {order} prête à retirer"),
            format!("Votre commande vous attend à {place}. Votre code de retrait : {code}."),
        ),
        (L::De, S::ReadyToPickUp) => (
            format!("Bestellung {order} ist abholbereit"),
            format!("Ihre Bestellung liegt in {place} für Sie bereit. Ihr Abholcode: {code}."),
        ),
        (L::En, S::ReadyToShip) => (
            format!("Order {order} is packed"),
            "Your parcel is packed and will leave soon.".to_owned(),
        ),
        (L::Fr, S::ReadyToShip) => (
            format!("Commande {order} emballée"),
            "Votre colis est prêt et partira bientôt.".to_owned(),
        ),
        (L::De, S::ReadyToShip) => (
            format!("Bestellung {order} ist verpackt"),
            "Ihr Paket ist verpackt und wird bald versendet.".to_owned(),
        ),
        (L::En, S::PickedUp) => (
            format!("Order {order} collected"),
            "Thank you for collecting your order.".to_owned(),
        ),
        (L::Fr, S::PickedUp) => (
            format!("Commande {order} retirée"),
            "Merci d'avoir retiré votre commande.".to_owned(),
        ),
        (L::De, S::PickedUp) => (
            format!("Bestellung {order} abgeholt"),
            "Danke, dass Sie Ihre Bestellung abgeholt haben.".to_owned(),
        ),
        (L::En, S::Shipped) => (
            format!("Order {order} shipped"),
            format!("Your parcel is on its way. Tracking number: {tracking}."),
        ),
        (L::Fr, S::Shipped) => (
            format!("Commande {order} expédiée"),
            format!("Votre colis est en route. Numéro de suivi : {tracking}."),
        ),
        (L::De, S::Shipped) => (
            format!("Bestellung {order} versendet"),
            format!("Ihr Paket ist unterwegs. Sendungsnummer: {tracking}."),
        ),
        (L::En, S::Cancelled) => (
            format!("Order {order} cancelled"),
            "Your order has been cancelled; you will not be charged for it.".to_owned(),
        ),
        (L::Fr, S::Cancelled) => (
            format!("Commande {order} annulée"),
            "Votre commande a été annulée ; elle ne vous sera pas facturée.".to_owned(),
        ),
        (L::De, S::Cancelled) => (
            format!("Bestellung {order} storniert"),
            "Ihre Bestellung wurde storniert; sie wird Ihnen nicht berechnet.".to_owned(),
        ),
        (L::En, S::Refunded) => (
            format!("Refund for order {order}"),
            format!("We have refunded {amount}."),
        ),
        (L::Fr, S::Refunded) => (
            format!("Remboursement de la commande {order}"),
            format!("Nous vous avons remboursé {amount}."),
        ),
        (L::De, S::Refunded) => (
            format!("Erstattung für Bestellung {order}"),
            format!("Wir haben Ihnen {amount} erstattet."),
        ),
    };
    let greeting = match language {
        L::En => format!("Hello {name},"),
        L::Fr => format!("Bonjour {name},"),
        L::De => format!("Hallo {name},"),
    };
    (subject, format!("{greeting}\n\n{line}\n"))
}

/// Subject and body of the message sending a pay-by-link gateway's page.
pub fn render_payment_link(
    language: Language,
    order: &str,
    customer_name: &str,
    url: &str,
) -> (String, String) {
    match language {
        Language::En => (
            format!("Pay for order {order}"),
            format!("Hello {customer_name},\n\nPay for your order {order} here: {url}\n"),
        ),
        Language::Fr => (
            format!("Paiement de la commande {order}"),
            format!("Bonjour {customer_name},\n\nRéglez votre commande {order} ici : {url}\n"),
        ),
        Language::De => (
            format!("Zahlung für Bestellung {order}"),
            format!("Hallo {customer_name},\n\nBezahlen Sie Ihre Bestellung {order} hier: {url}\n"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_a_template_in_every_language() {
        let statuses = [
            CustomerStatus::Waiting,
            CustomerStatus::InPreparation,
            CustomerStatus::ReadyToPickUp,
            CustomerStatus::ReadyToShip,
            CustomerStatus::PickedUp,
            CustomerStatus::Shipped,
            CustomerStatus::Cancelled,
            CustomerStatus::Refunded,
        ];
        for language in [Language::En, Language::Fr, Language::De] {
            let mut subjects = std::collections::HashSet::new();
            for status in statuses {
                let details = Details {
                    customer_name: "Ana",
                    location: Some("Lyon Part-Dieu"),
                    pickup_code: Some("482913"),
                    tracking: Some("AIS0000000001"),
                    amount: Some("12.99 EUR"),
                };
                let (subject, body) = render(status, language, "O-1", &details);
                assert!(subject.contains("O-1"));
                assert!(body.contains("Ana"));
                assert!(subjects.insert(subject), "two statuses share a subject");
            }
        }
        let (_, body) = render(
            CustomerStatus::ReadyToPickUp,
            Language::Fr,
            "O-1",
            &Details {
                customer_name: "Ana",
                location: Some("Lyon"),
                pickup_code: Some("482913"),
                ..Details::default()
            },
        );
        assert!(body.contains("482913") && body.contains("Lyon"));
    }
}
