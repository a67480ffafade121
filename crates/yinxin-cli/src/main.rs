//! `yinxin`: the command line of the yinxin electronic-authentication platform.
//!
//! Subcommands are thin adapters: parse arguments, call one library function, print. Exit
//! codes: 0 success (or a valid signature), 1 an invalid signature, 2 a usage or input error.

#[macro_use]
mod output;
mod args;
mod bench;
mod chain_commands;
mod input;
mod key_commands;
mod token_commands;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command, KeyCommand, TokenCommand};

/// How a successful run ended.
pub(crate) enum Outcome {
    /// The command did its work.
    Done,
    /// `verify`, `verify-chain`: the signature or chain is valid.
    Valid,
    /// `verify`, `verify-chain`: the signature or chain is not valid.
    Invalid,
}

fn run(cli: &Cli) -> anyhow::Result<Outcome> {
    let j = cli.json;
    match &cli.command {
        Command::Key(KeyCommand::Generate(a)) => key_commands::generate(a, j),
        Command::Key(KeyCommand::Public(a)) => key_commands::public(a, j),
        Command::Digest(a) => key_commands::digest(a, j),
        Command::Sign(a) => key_commands::sign(a, j),
        Command::Verify(a) => key_commands::verify(a, j),
        Command::VerifyChain(a) => chain_commands::verify_chain(a, j),
        Command::Encrypt(a) => key_commands::encrypt(a, j),
        Command::Decrypt(a) => key_commands::decrypt(a, j),
        Command::Token(t) => match t {
            TokenCommand::Init(a) => token_commands::init(a, j),
            TokenCommand::Info(a) => token_commands::info(a, j),
            TokenCommand::List(a) => token_commands::list(a, j),
            TokenCommand::Keygen(a) => token_commands::keygen(a, j),
            TokenCommand::ImportCert(a) => token_commands::import_cert(a, j),
            TokenCommand::ChangePin(a) => token_commands::change_pin(a, j),
            TokenCommand::Unlock(a) => token_commands::unlock(a, j),
            TokenCommand::Csr(a) => token_commands::csr(a, j),
            TokenCommand::Sign(a) => token_commands::sign(a, j),
            TokenCommand::Decrypt(a) => token_commands::decrypt(a, j),
        },
        Command::Bench(a) => bench::run(a, j),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(Outcome::Done | Outcome::Valid) => ExitCode::SUCCESS,
        Ok(Outcome::Invalid) => ExitCode::from(1),
        Err(e) => {
            // One line, the whole cause chain, no backtrace.
            let msg = format!("{e:#}").replace('\n', " ");
            if cli.json {
                outln!("{}", serde_json::json!({"error": msg}));
            }
            eprintln!("yinxin: error: {msg}");
            ExitCode::from(2)
        }
    }
}
