//! Stage 1, list: every object under the source prefix, minus the ones
//! under excluded prefixes (the checkpoint area, when the two overlap).

use eventlog_store::{ObjectMeta, ObjectStore};

use crate::error::RunError;
use crate::progress::Progress;

/// The objects to plan against the ledger.
#[derive(Debug, Default)]
pub struct Listing {
    pub objects: Vec<ObjectMeta>,
    /// How many were listed in all.
    pub listed: usize,
    /// How many were under an excluded prefix.
    pub excluded: usize,
}

/// List `prefix` of `source`, leaving out keys under `exclude`.
#[tracing::instrument(name = "list", skip_all, fields(listed, excluded, duration_ms))]
pub async fn list(
    source: &impl ObjectStore,
    prefix: &str,
    exclude: &[String],
    progress: &dyn Progress,
) -> Result<Listing, RunError> {
    let _timed = crate::timed::Timed::start();
    progress.stage("listing", None);
    let all = source.list(prefix).await.map_err(RunError::List)?;
    let listed = all.len();
    let objects: Vec<ObjectMeta> = all
        .into_iter()
        .filter(|m| !is_excluded(&m.key, exclude))
        .collect();
    let excluded = listed - objects.len();
    let span = tracing::Span::current();
    span.record("listed", listed);
    span.record("excluded", excluded);
    Ok(Listing {
        objects,
        listed,
        excluded,
    })
}

fn is_excluded(key: &str, exclude: &[String]) -> bool {
    exclude
        .iter()
        .any(|x| !x.is_empty() && key.starts_with(x.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::Silent;
    use eventlog_store::local::LocalStore;

    #[test]
    fn lists_all_but_excluded_prefixes() {
        let rt = crate::test_runtime();
        let dir = tempfile::tempdir().unwrap();
        for f in ["prod/a.json", "prod/b.json", "prod/checkpoints/x.parquet"] {
            let p = dir.path().join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, b"{}").unwrap();
        }
        let store = LocalStore::new(dir.path());
        let l = rt
            .block_on(list(&store, "", &["prod/checkpoints/".into()], &Silent))
            .unwrap();
        assert_eq!((l.listed, l.excluded, l.objects.len()), (3, 1, 2));
    }
}
