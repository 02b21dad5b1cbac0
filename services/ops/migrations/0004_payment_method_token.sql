-- One name per concept (docs/architecture.md, Glossary): the payment method
-- token is payment_method_token in the API, the code and the database.
ALTER TABLE orders RENAME COLUMN payment_method TO payment_method_token;
