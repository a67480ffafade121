//! `yinxin manifest create|sign|verify`: the signed list of installed files (being written).

use anyhow::{Result, bail};
use clap::Subcommand;

use crate::Outcome;

#[derive(Debug, Subcommand)]
pub(crate) enum ManifestCommand {
    /// (being written)
    Create,
}

pub(crate) fn run(_command: &ManifestCommand, _json: bool) -> Result<Outcome> {
    bail!("not yet")
}
