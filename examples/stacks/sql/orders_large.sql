-- The ORDERS quickstart's larger orders, with the state they ship to: an append-only CTAS, so
-- Tableflow writes its topic as an APPEND table. kickstart runs it as the stack's Flink runner.
CREATE TABLE IF NOT EXISTS `orders_large` WITH (
  'changelog.mode' = 'append',
  'kafka.cleanup-policy' = 'delete',
  'value.fields-include' = 'all'
) AS
SELECT
  `$rowtime` AS `order_timestamp`,
  `orderid`,
  `itemid`,
  `orderunits`,
  `address`.`state` AS `state`
FROM `orders`
WHERE `orderunits` >= 5;
