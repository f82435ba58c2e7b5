-- Pay-by-link gateways answer an authorisation with the page where the
-- customer pays; it is kept with the payment instruction and sent to the
-- customer (a `payment_link` notification in the same transaction).
ALTER TABLE payments ADD COLUMN payment_url TEXT;
