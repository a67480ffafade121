//! `yinxin`: the command line of the yinxin electronic-authentication platform.
//!
//! Subcommands are thin adapters: parse arguments, call one library function, print. Exit
//! codes: 0 success (or a valid signature), 1 an invalid signature, 2 a usage or input error.

#[macro_use]
mod output;
mod admin_commands;
mod args;
mod bench;
mod bench_cms;
mod bench_server;
mod chain_commands;
mod client;
mod cms_commands;
mod doctor_commands;
mod input;
mod key_commands;
mod manifest_commands;
mod server_commands;
mod token_commands;
mod ts_commands;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{
    AdminCommand, AuditCommand, CaCommand, Cli, Command, KeyCommand, TokenCommand, TsCommand,
    TsaCommand, VaultCommand,
};

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
            TokenCommand::Enroll(a) => token_commands::enroll(a, j),
            TokenCommand::ImportKey(a) => token_commands::import_key(a, j),
        },
        Command::Bench(a) => bench::run(a, j),
        Command::Serve(a) => server_commands::serve(a),
        Command::BenchServer(a) => bench_server::run(a, j),
        Command::Cms(c) => cms_commands::run(c, j),
        Command::Vault(VaultCommand::Unseal(a)) => server_commands::vault_unseal(a, j),
        Command::Vault(VaultCommand::Status(a)) => server_commands::vault_status(a, j),
        Command::Vault(VaultCommand::Seal(a)) => server_commands::vault_seal(a, j),
        Command::Ca(c) => match c {
            CaCommand::Roots(a) => server_commands::ca_roots(a, j),
            CaCommand::Issue(a) => server_commands::ca_issue(a, j),
            CaCommand::Enrol(a) => server_commands::ca_enrol(a, j),
            CaCommand::Revoke(a) => server_commands::ca_revoke(a, j),
            CaCommand::Hold(a) => server_commands::ca_hold(a, j),
            CaCommand::Release(a) => server_commands::ca_release(a, j),
            CaCommand::Renew(a) => server_commands::ca_reissue(a, false, j),
            CaCommand::Rekey(a) => server_commands::ca_reissue(a, true, j),
            CaCommand::Search(a) => server_commands::ca_search(a, j),
            CaCommand::Get(a) => server_commands::ca_get(a, j),
            CaCommand::Crl(a) => server_commands::ca_crl(a, j),
            CaCommand::PublishCrl(a) => server_commands::ca_publish_crl(a, j),
            CaCommand::Recover(a) => admin_commands::recover(a, j),
            CaCommand::ApproveRecovery(a) => admin_commands::approve(a, j),
        },
        Command::Audit(AuditCommand::Verify(a)) => server_commands::audit_verify(a, j),
        Command::Audit(AuditCommand::Export(a)) => server_commands::audit_export(a, j),
        Command::Admin(AdminCommand::CreateToken(a)) => server_commands::admin_create_token(a, j),
        Command::Admin(AdminCommand::DisableToken(a)) => server_commands::admin_disable_token(a, j),
        Command::Admin(AdminCommand::Form(a)) => admin_commands::form(a, j),
        Command::Admin(AdminCommand::Join(a)) => admin_commands::join(a, j),
        Command::Admin(AdminCommand::Members(a)) => admin_commands::members(a, j),
        Command::Admin(AdminCommand::Request(a)) => admin_commands::request(a, j),
        Command::Admin(AdminCommand::Approve(a)) => admin_commands::approve(a, j),
        Command::Admin(AdminCommand::Approvals(a)) => admin_commands::approvals(a, j),
        Command::Admin(AdminCommand::Cancel(a)) => admin_commands::close(a, false, j),
        Command::Admin(AdminCommand::Reject(a)) => admin_commands::close(a, true, j),
        Command::Admin(AdminCommand::ReplaceService(a)) => {
            server_commands::admin_replace_service(a, j)
        }
        Command::Ts(TsCommand::Query(a)) => ts_commands::query(a, j),
        Command::Ts(TsCommand::Verify(a)) => ts_commands::verify(a, j),
        Command::Tsa(TsaCommand::Clock(a)) => ts_commands::clock(a, j),
        Command::Manifest(c) => manifest_commands::run(c, j),
        Command::Doctor(a) => doctor_commands::run(a, j),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.insecure_http {
        client::INSECURE_HTTP.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    if !matches!(cli.command, Command::Serve(_) | Command::BenchServer(_)) {
        doctor_commands::init_client_log();
    }
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
