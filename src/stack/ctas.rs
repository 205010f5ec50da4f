//! The Flink SQL the stack runs, as the seed runs it.

/// The CTAS of C11.
/// `IF NOT EXISTS`, as the seed's: a re-run on a stack whose table exists succeeds.
pub(super) const CTAS: &str = "CREATE TABLE IF NOT EXISTS `stock_trades_with_totals` WITH (\
'changelog.mode' = 'append', 'kafka.cleanup-policy' = 'delete', \
'kafka.producer.compression.type' = 'zstd', 'value.fields-include' = 'all') AS \
SELECT `$rowtime` AS `trade_timestamp`, `userid`, `side`, `symbol`, `quantity`, `price`, \
(`quantity` * `price`) AS total_price FROM `stock_trades`;";
