//! `qt merge`: flags -> [`MergeOptions`], then `merge::merge`.

use super::cli::MergeArgs;
use crate::merge::{self, MergeOptions};

pub fn merge(a: &MergeArgs) -> anyhow::Result<i32> {
    merge::merge(&MergeOptions { dirs: a.dirs.clone(), out: a.out.clone(), quiet: a.quiet, allow_mixed: a.allow_mixed })
}
