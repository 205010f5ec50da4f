//! What the nodes of one run may share: a read that answers many nodes at once (every ACL of a
//! cluster in one listing, say) is made once per run instead of once per node.
//!
//! It is safe because a run holds the state's lock and calls each node's `find` once: what one
//! node read for another can only have been changed since by that other node, which has not run.
//! A memo never outlives its run, so the next run reads the cloud afresh.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

#[derive(Default)]
pub struct Memo(Mutex<HashMap<String, Arc<dyn Any + Send + Sync>>>);

impl Memo {
    /// The value under `key`, computed by the first caller; callers meanwhile wait for it. A
    /// failed computation is not kept: the next caller tries again.
    pub async fn get_or_try_init<T, E, F, Fut>(&self, key: &str, init: F) -> Result<Arc<T>, E>
    where
        T: Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let cell = {
            let mut cells = self.0.lock().unwrap();
            let any = cells
                .entry(key.to_string())
                .or_insert_with(|| Arc::new(OnceCell::<Arc<T>>::new()))
                .clone();
            any.downcast::<OnceCell<Arc<T>>>()
                .unwrap_or_else(|_| panic!("memo key {key} holds another type"))
        };
        cell.get_or_try_init(|| async { init().await.map(Arc::new) })
            .await
            .cloned()
    }
}

impl std::fmt::Debug for Memo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys: Vec<String> = self.0.lock().unwrap().keys().cloned().collect();
        f.debug_tuple("Memo").field(&keys).finish()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn computes_once_and_retries_a_failure() {
        let memo = Memo::default();
        let calls = AtomicUsize::new(0);
        let fail = memo
            .get_or_try_init::<u32, &str, _, _>("k", || async { Err("down") })
            .await;
        assert_eq!(fail.unwrap_err(), "down");
        let count = || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Ok::<_, &str>(7u32)
        };
        let (a, b) = tokio::join!(
            memo.get_or_try_init("k", count),
            memo.get_or_try_init("k", count)
        );
        assert_eq!((*a.unwrap(), *b.unwrap()), (7, 7));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
