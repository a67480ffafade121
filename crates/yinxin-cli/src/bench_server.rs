//! `yinxin bench-server`: issuance and OCSP throughput of a server or an in-process authority.

use anyhow::{Result, bail};

use crate::Outcome;
use crate::args::BenchServerArgs;

pub(crate) fn run(_args: &BenchServerArgs, _json_out: bool) -> Result<Outcome> {
    bail!("bench-server is not implemented yet")
}
