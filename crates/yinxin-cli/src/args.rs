//! The command line, as clap types.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// yinxin (印信): electronic authentication for online procurement — keys, signatures,
/// envelopes and tokens with SM2/SM3/SM4 and RSA/ECDSA.
#[derive(Debug, Parser)]
#[command(name = "yinxin", version)]
pub(crate) struct Cli {
    /// Print results as JSON for machines.
    #[arg(long, global = true)]
    pub(crate) json: bool,

    /// Send API tokens and unseal shares to a server over plain http:// on another machine
    /// (trials only; refused otherwise, as credentials never travel over plain HTTP).
    #[arg(long, global = true, env = "YINXIN_INSECURE_HTTP")]
    pub(crate) insecure_http: bool,

    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Generate keys and extract public keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Hash a file.
    Digest(DigestArgs),
    /// Sign a file with a private key file (DER signature).
    Sign(SignArgs),
    /// Verify a signature: exit 0 valid, 1 invalid, 2 usage or input error.
    Verify(VerifyArgs),
    /// Validate a certificate chain (RFC 5280): exit 0 valid, 1 invalid, 2 usage or input error.
    VerifyChain(VerifyChainArgs),
    /// Encrypt a file to a public key (SM2 or RSA-OAEP).
    Encrypt(EncryptArgs),
    /// Decrypt a file with a private key file.
    Decrypt(DecryptArgs),
    /// Software tokens and PKCS#11 devices (USB keys, HSMs).
    #[command(subcommand)]
    Token(TokenCommand),
    /// Operations per second of each primitive, printed like `openssl speed`.
    Bench(BenchArgs),
    /// Run the server: CA, RA, CRL, OCSP and the key vault (the first start initialises all).
    Serve(ServeArgs),
    /// The server's key vault: unseal, status.
    #[command(subcommand)]
    Vault(VaultCommand),
    /// Certificates through a running server: roots, issue, revoke, CRLs, search, escrow.
    #[command(subcommand)]
    Ca(CaCommand),
    /// The server's hash-chained audit log: verify, export.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Server administration: API tokens.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// CMS signatures and digital envelopes (RFC 5652, GM/T 0010): sign, verify, encrypt,
    /// decrypt, with keys in files, software tokens or PKCS#11 devices.
    #[command(subcommand)]
    Cms(crate::cms_commands::CmsCommand),
    /// Load a running server (or an in-process authority): issuance and OCSP per second.
    BenchServer(BenchServerArgs),
    /// RFC 3161 timestamps: ask a TSA for one, verify a response or token.
    #[command(subcommand)]
    Ts(TsCommand),
    /// The server's time-stamping authority: its clock.
    #[command(subcommand)]
    Tsa(TsaCommand),
    /// The signed manifest of an installation: SHA-256 and size of every file.
    #[command(subcommand)]
    Manifest(crate::manifest_commands::ManifestCommand),
    /// Check this PC's yinxin environment and say what is wrong and how to fix it (环境检测);
    /// `--fix` repairs what is safe, `--bundle` packs a redacted support bundle. Exit 1 when
    /// a problem is found.
    Doctor(crate::doctor_commands::DoctorArgs),
}

#[derive(Debug, Subcommand)]
pub(crate) enum KeyCommand {
    /// Generate a private key (PKCS#8 PEM).
    Generate(KeyGenerateArgs),
    /// Write the public key (SubjectPublicKeyInfo PEM) of a private key.
    Public(KeyPublicArgs),
}

#[derive(Debug, Args)]
pub(crate) struct KeyGenerateArgs {
    /// Key type.
    #[arg(long, value_name = "sm2|rsa2048|rsa3072|rsa4096|ec-p256|ec-p384")]
    pub(crate) alg: String,
    /// Where to write the private key.
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// Encrypt the key (PBES2: PBKDF2-HMAC-SHA256, AES-256-CBC) with the password in this file.
    #[arg(long, value_name = "FILE")]
    pub(crate) password_file: Option<PathBuf>,
    /// Replace an existing file at --out (its old key is lost).
    #[arg(long)]
    pub(crate) force: bool,
}

#[derive(Debug, Args)]
pub(crate) struct KeyPublicArgs {
    /// The private key (PEM or DER; PKCS#8, PKCS#1 or SEC1).
    pub(crate) key: PathBuf,
    /// Where to write the public key (standard output if absent).
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
    /// Password file for an encrypted private key.
    #[arg(long, value_name = "FILE")]
    pub(crate) password_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct DigestArgs {
    /// Hash algorithm.
    #[arg(long, default_value = "sm3", value_name = "sm3|sha256|sha384|sha512")]
    pub(crate) alg: String,
    /// The file to hash ("-" for standard input).
    pub(crate) file: PathBuf,
}

/// How the scheme is chosen for signing and verifying.
#[derive(Debug, Args)]
pub(crate) struct SchemeArgs {
    /// SM2 signer ID (default 1234567812345678). Refused for non-SM2 keys.
    #[arg(long)]
    pub(crate) id: Option<String>,
    /// SM2 signer ID as hex, for IDs that are not text.
    #[arg(long, conflicts_with = "id", value_name = "HEX")]
    pub(crate) id_hex: Option<String>,
    /// Hash for RSA/ECDSA (default SHA-256; SHA-384 for P-384). SM2 always uses SM3.
    #[arg(long, value_name = "sha256|sha384|sha512")]
    pub(crate) hash: Option<String>,
    /// RSA-PSS instead of PKCS#1 v1.5.
    #[arg(long)]
    pub(crate) pss: bool,
}

#[derive(Debug, Args)]
pub(crate) struct SignArgs {
    /// The private key file.
    #[arg(long)]
    pub(crate) key: PathBuf,
    /// The data to sign.
    #[arg(long = "in")]
    pub(crate) input: PathBuf,
    /// Where to write the signature.
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// Password file for an encrypted private key.
    #[arg(long, value_name = "FILE")]
    pub(crate) password_file: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) scheme: SchemeArgs,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// The public key, or a certificate holding it (PEM or DER).
    #[arg(long)]
    pub(crate) pubkey: PathBuf,
    /// The signed data.
    #[arg(long = "in")]
    pub(crate) input: PathBuf,
    /// The signature (DER, or raw r||s for SM2/ECDSA).
    #[arg(long)]
    pub(crate) sig: PathBuf,
    #[command(flatten)]
    pub(crate) scheme: SchemeArgs,
}

/// Output layout of SM2 ciphertexts.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Sm2Format {
    /// GM/T 0009 ASN.1 (as OpenSSL writes).
    Asn1,
    /// Raw 04 || C1 || C3 || C2.
    C1c3c2,
    /// Raw 04 || C1 || C2 || C3 (old middleware).
    C1c2c3,
}

/// RSA encryption padding.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum RsaPadding {
    /// OAEP with SHA-256 and MGF1-SHA-256.
    OaepSha256,
    /// OAEP with SHA-1 (OpenSSL's OAEP default).
    OaepSha1,
    /// PKCS#1 v1.5 (decryption of legacy envelopes only).
    Pkcs1,
}

#[derive(Debug, Args)]
pub(crate) struct EncryptArgs {
    /// The recipient's public key or certificate.
    #[arg(long)]
    pub(crate) pubkey: PathBuf,
    /// The plaintext.
    #[arg(long = "in")]
    pub(crate) input: PathBuf,
    /// Where to write the ciphertext.
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// SM2 ciphertext layout.
    #[arg(long, value_enum, default_value = "asn1")]
    pub(crate) format: Sm2Format,
    /// RSA padding.
    #[arg(long, value_enum, default_value = "oaep-sha256")]
    pub(crate) padding: RsaPadding,
}

#[derive(Debug, Args)]
pub(crate) struct DecryptArgs {
    /// The private key file.
    #[arg(long)]
    pub(crate) key: PathBuf,
    /// The ciphertext (SM2: ASN.1 or raw, either order, with or without 04).
    #[arg(long = "in")]
    pub(crate) input: PathBuf,
    /// Where to write the plaintext.
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// Password file for an encrypted private key.
    #[arg(long, value_name = "FILE")]
    pub(crate) password_file: Option<PathBuf>,
    /// RSA padding.
    #[arg(long, value_enum, default_value = "oaep-sha256")]
    pub(crate) padding: RsaPadding,
}

/// Which token to use.
#[derive(Debug, Args, Clone)]
pub(crate) struct TokenSelect {
    /// Software token file (default: $YINXIN_HOME/tokens/<NAME>.yxtoken, YINXIN_HOME=~/.yinxin).
    #[arg(long, global = true, conflicts_with = "pkcs11")]
    pub(crate) path: Option<PathBuf>,
    /// Software token name under $YINXIN_HOME/tokens.
    #[arg(long = "name", global = true, default_value = "default")]
    pub(crate) name: String,
    /// Use the PKCS#11 module (USB key or HSM driver) at this path instead.
    #[arg(long, global = true, value_name = "MODULE.so")]
    pub(crate) pkcs11: Option<PathBuf>,
    /// With --pkcs11: the token's label (default: the first initialised token).
    #[arg(long, global = true, requires = "pkcs11")]
    pub(crate) token_label: Option<String>,
}

/// Where PINs come from: a file (first line), an environment variable, or a prompt.
#[derive(Debug, Args, Clone)]
pub(crate) struct PinArgs {
    /// File holding the user PIN (else $YINXIN_PIN, else a prompt).
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) pin_file: Option<PathBuf>,
    /// File holding the SO PIN (else $YINXIN_SO_PIN, else a prompt).
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) so_pin_file: Option<PathBuf>,
    /// File holding the new PIN (else $YINXIN_NEW_PIN, else a prompt).
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) new_pin_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum TokenCommand {
    /// Create a token: sets the SO PIN and the user PIN.
    Init(TokenInitArgs),
    /// Show the token's label, serial and PIN state.
    Info(TokenOnly),
    /// List containers, keys and certificates (no PIN needed).
    List(TokenOnly),
    /// Generate a key pair inside the token.
    Keygen(TokenKeygenArgs),
    /// Store a certificate for a container's key.
    ImportCert(TokenImportCertArgs),
    /// Change the user PIN (or the SO PIN with --so).
    ChangePin(TokenChangePinArgs),
    /// Unlock the user PIN with the SO PIN and set a new one.
    Unlock(TokenOnly),
    /// Make a PKCS#10 request signed by a container's signing key.
    Csr(TokenCsrArgs),
    /// Sign a file with a container's key.
    Sign(TokenSignArgs),
    /// Decrypt a file with a container's encryption key.
    Decrypt(TokenDecryptArgs),
    /// Enrol for dual certificates at a server: a signing key generated here, an escrowed
    /// encryption key delivered sealed to it; both certificates stored in the container.
    Enroll(TokenEnrollArgs),
    /// Import an encryption key delivered in an envelope sealed to a container's signing key
    /// (from `ca enrol` or `ca approve-recovery`).
    ImportKey(TokenImportKeyArgs),
}

#[derive(Debug, Args)]
pub(crate) struct TokenEnrollArgs {
    #[command(flatten)]
    pub(crate) token: TokenSelect,
    #[command(flatten)]
    pub(crate) pins: PinArgs,
    #[command(flatten)]
    pub(crate) server: ServerArgs,
    /// Container name (created, with a new signing key, if it has none).
    #[arg(long)]
    pub(crate) container: String,
    /// Subject, as "/C=CN/O=…/CN=…" or "CN=…,O=…,C=CN".
    #[arg(long)]
    pub(crate) subject: String,
    /// organisation or employee.
    #[arg(long, default_value = "employee")]
    pub(crate) profile: String,
    /// Signing key type when the container has none.
    #[arg(long, default_value = "sm2", value_name = "sm2|rsa2048|rsa3072")]
    pub(crate) alg: String,
    #[command(flatten)]
    pub(crate) request: RequestArgs,
}

/// Where the server is and how to authenticate to it.
#[derive(Debug, Args, Clone)]
pub(crate) struct ServerArgs {
    /// The server's URL, e.g. http://127.0.0.1:8700.
    #[arg(long, env = "YINXIN_SERVER", value_name = "URL")]
    pub(crate) server: String,
    /// File holding the API token (else $YINXIN_TOKEN).
    #[arg(long, value_name = "FILE")]
    pub(crate) token_file: Option<PathBuf>,
}

/// What goes into a certificate besides the request's subject and key.
#[derive(Debug, Args, Clone, Default)]
pub(crate) struct RequestArgs {
    /// The issuing CA (default: sm2-issuing for SM2 keys, rsa-issuing otherwise).
    #[arg(long)]
    pub(crate) ca: Option<String>,
    /// Lifetime in days.
    #[arg(long)]
    pub(crate) days: Option<u32>,
    /// Subject alternative names: dns:NAME, ip:ADDRESS, email:ADDRESS (repeatable).
    #[arg(long = "san", value_name = "KIND:VALUE")]
    pub(crate) sans: Vec<String>,
    /// GM/T 0015 organisation code / unified social credit code (统一社会信用代码).
    #[arg(long)]
    pub(crate) org_code: Option<String>,
    /// GM/T 0015 taxation number (企业税号).
    #[arg(long)]
    pub(crate) tax_number: Option<String>,
    /// GM/T 0015 resident identity card number (居民身份证号码).
    #[arg(long)]
    pub(crate) id_number: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Data directory: the SQLite store, the trial unseal share, the first admin token.
    #[arg(long, default_value = "yinxin-data", value_name = "DIR")]
    pub(crate) data: PathBuf,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8700", value_name = "ADDR")]
    pub(crate) listen: std::net::SocketAddr,
    /// PostgreSQL instead of SQLite: postgres://user@host:port/db.
    #[arg(long, env = "YINXIN_DATABASE", value_name = "URL")]
    pub(crate) database: Option<String>,
    /// The URL clients reach this server at (default http://<listen address>); it is written
    /// into certificates as the CRL, OCSP and CA-certificate locations.
    #[arg(long, value_name = "URL")]
    pub(crate) public_url: Option<String>,
    /// First start only: split the vault's master key K-of-N among administrators (default
    /// 1-of-1, the trial mode that unseals itself from the data directory).
    #[arg(long, default_value = "1-of-1", value_name = "K-of-N")]
    pub(crate) shares: String,
    /// First start only: the organisation named in CA subjects.
    #[arg(long)]
    pub(crate) ca_organisation: Option<String>,
    /// Regenerate CRLs this often, in seconds, even without revocations.
    #[arg(long, value_name = "SECONDS")]
    pub(crate) crl_interval: Option<u64>,
    /// PKCS#11 module (HSM driver) holding CA keys: those named by --pkcs11-ca on first start.
    #[arg(long, value_name = "MODULE.so")]
    pub(crate) pkcs11_module: Option<PathBuf>,
    /// With --pkcs11-module: the token's label (default: the first initialised token).
    #[arg(long, requires = "pkcs11_module")]
    pub(crate) pkcs11_token_label: Option<String>,
    /// With --pkcs11-module: file holding the token's user PIN (else $YINXIN_PKCS11_PIN).
    #[arg(long, value_name = "FILE", requires = "pkcs11_module")]
    pub(crate) pkcs11_pin_file: Option<PathBuf>,
    /// First start only: generate this CA's key on the PKCS#11 token (rsa-root, rsa-issuing;
    /// repeatable).
    #[arg(long, value_name = "CA", requires = "pkcs11_module")]
    pub(crate) pkcs11_ca: Vec<String>,
    /// The TSA policy OID in every timestamp (default 1.3.6.1.4.1.32473.3161.1, an
    /// example arc: name your own).
    #[arg(long, value_name = "OID")]
    pub(crate) tsa_policy: Option<String>,
    /// The accuracy timestamps claim, in seconds (e.g. 1, 0.5, 0.000250; 0 for none;
    /// default 1).
    #[arg(long, value_name = "SECONDS")]
    pub(crate) tsa_accuracy: Option<String>,
    /// A wall-clock jump larger than this (milliseconds; default 1000) marks the TSA clock
    /// unhealthy until an administrator runs `yinxin tsa clock --healthy`.
    #[arg(long, value_name = "MS")]
    pub(crate) tsa_clock_tolerance_ms: Option<u64>,
    /// A TLS-terminating proxy (ADDRESS or ADDRESS/BITS; repeatable) whose Forwarded /
    /// X-Forwarded-For / X-Forwarded-Proto headers give the client's address and scheme.
    #[arg(long, value_name = "CIDR")]
    pub(crate) trusted_proxy: Vec<String>,
    /// Accept API tokens and unseal shares over plain HTTP from other machines. For trials
    /// only: contrary to the rule that credentials never travel over plain HTTP.
    #[arg(long)]
    pub(crate) insecure_http: bool,
    /// Bytes of request bodies the server holds at once, across all requests (default
    /// 268435456, 256 MiB); a request that does not fit is answered 503 at once.
    #[arg(long, value_name = "BYTES")]
    pub(crate) max_body_bytes_in_flight: Option<usize>,
    /// CMS operations (verify, sign, encrypt, decrypt) at once (default: 2 or the number of
    /// cores, whichever is larger); others wait up to 10 s, then 503.
    #[arg(long, value_name = "N")]
    pub(crate) max_cms_operations: Option<usize>,
    /// With --shares K-of-N at first start: N certificate files (comma-separated, in share
    /// order); each share is written sealed to its holder's certificate (init-shares/
    /// share-N.p7m) instead of in clear.
    #[arg(long, value_name = "CERT,…", value_delimiter = ',')]
    pub(crate) share_recipients: Vec<PathBuf>,
    /// A TOML file with any of: data, listen, database, public_url, shares,
    /// ca_organisation, crl_interval, tsa_policy, tsa_accuracy, tsa_clock_tolerance_ms
    /// (flags given on the command line win).
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum TsCommand {
    /// Ask a TSA to timestamp a file (or a digest) and keep its response.
    Query(TsQueryArgs),
    /// Verify a timestamp response or token: exit 0 valid, 1 invalid, 2 unusable input.
    Verify(TsVerifyArgs),
}

#[derive(Debug, Args)]
pub(crate) struct TsQueryArgs {
    /// The yinxin server's URL; the request goes to SERVER/tsa (or SERVER/tsa/KEY).
    #[arg(
        long,
        env = "YINXIN_SERVER",
        value_name = "URL",
        required_unless_present = "url"
    )]
    pub(crate) server: Option<String>,
    /// Any RFC 3161 TSA's full URL instead of --server.
    #[arg(long, value_name = "URL", conflicts_with = "server")]
    pub(crate) url: Option<String>,
    /// The file to timestamp.
    #[arg(long = "in", value_name = "FILE", required_unless_present = "digest")]
    pub(crate) input: Option<PathBuf>,
    /// Timestamp this digest (hex) instead of a file's.
    #[arg(long, value_name = "HEX", conflicts_with = "input")]
    pub(crate) digest: Option<String>,
    /// Where to write the TimeStampResp (DER).
    #[arg(long, value_name = "RESP.tsr")]
    pub(crate) out: PathBuf,
    /// The imprint's hash (default sm3 with --key sm2, else sha256).
    #[arg(long, value_name = "sm3|sha256|sha384|sha512")]
    pub(crate) alg: Option<String>,
    /// The TSA key to stamp with (yinxin servers; default by hash: SM3 → sm2, else rsa).
    #[arg(long, value_name = "sm2|rsa|ecdsa")]
    pub(crate) key: Option<String>,
    /// Send no nonce (by default a random 64-bit nonce is sent and checked).
    #[arg(long)]
    pub(crate) no_nonce: bool,
    /// Ask for the TSA's certificates in the token (the default).
    #[arg(long, overrides_with = "no_cert_req")]
    pub(crate) cert_req: bool,
    /// Do not ask for the TSA's certificates.
    #[arg(long)]
    pub(crate) no_cert_req: bool,
    /// Ask for this TSA policy.
    #[arg(long, value_name = "OID")]
    pub(crate) policy: Option<String>,
    /// Also write the TimeStampReq sent (DER), for `ts verify --query`.
    #[arg(long, value_name = "REQ.tsq")]
    pub(crate) request_out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct TsVerifyArgs {
    /// The TimeStampResp (or, with --token, the token alone), DER.
    #[arg(long = "in", value_name = "RESP.tsr")]
    pub(crate) input: PathBuf,
    /// --in is a bare token (ContentInfo), not a response.
    #[arg(long)]
    pub(crate) token: bool,
    /// The data that was timestamped.
    #[arg(long, value_name = "FILE", required_unless_present_any = ["digest", "query"])]
    pub(crate) data: Option<PathBuf>,
    /// The digest that was timestamped (hex; its hash is the token's).
    #[arg(long, value_name = "HEX", conflicts_with = "data")]
    pub(crate) digest: Option<String>,
    /// The request (DER) the response answers: its imprint, nonce and policy must match.
    #[arg(long, value_name = "REQ.tsq")]
    pub(crate) query: Option<PathBuf>,
    /// Trusted root certificates (PEM or DER).
    #[arg(long, value_name = "R.pem")]
    pub(crate) roots: PathBuf,
    /// More certificates that may complete the chain (PEM).
    #[arg(long, value_name = "chain.pem")]
    pub(crate) untrusted: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum TsaCommand {
    /// Mark a server node's TSA clock healthy or unhealthy (administrators; audited).
    Clock(TsaClockArgs),
}

#[derive(Debug, Args)]
pub(crate) struct TsaClockArgs {
    #[command(flatten)]
    pub(crate) server: ServerArgs,
    /// Grant timestamps again (after checking the time).
    #[arg(
        long,
        conflicts_with = "unhealthy",
        required_unless_present = "unhealthy"
    )]
    pub(crate) healthy: bool,
    /// Refuse timestamps with timeNotAvailable until marked healthy.
    #[arg(long)]
    pub(crate) unhealthy: bool,
    /// Why (audited; clients see it while unhealthy).
    #[arg(long)]
    pub(crate) reason: Option<String>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum VaultCommand {
    /// Give one unseal share to a sealed server.
    Unseal(VaultUnsealArgs),
    /// Show whether the vault is sealed, and any withdrawn platform certificate.
    Status(VaultStatusArgs),
    /// Seal the vault now (one administrator: an emergency stop; K shares unseal it again).
    Seal(ServerOnlyArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ServerOnlyArgs {
    #[command(flatten)]
    pub(crate) server: ServerArgs,
}

#[derive(Debug, Args)]
pub(crate) struct VaultUnsealArgs {
    /// The server's URL.
    #[arg(long, env = "YINXIN_SERVER", value_name = "URL")]
    pub(crate) server: String,
    /// File holding the share (else $YINXIN_SHARE, else a prompt); a `share-N.p7m` sealed
    /// to you is opened with your key (--token/--pkcs11/--key).
    #[arg(long, value_name = "FILE")]
    pub(crate) share_file: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) key: crate::cms_commands::KeySource,
}

#[derive(Debug, Args)]
pub(crate) struct VaultStatusArgs {
    /// The server's URL.
    #[arg(long, env = "YINXIN_SERVER", value_name = "URL")]
    pub(crate) server: String,
}

#[derive(Debug, Subcommand)]
pub(crate) enum CaCommand {
    /// Download the CA certificates (roots; with --all the issuing CAs too).
    Roots(CaRootsArgs),
    /// Issue a certificate for a PKCS#10 request.
    Issue(CaIssueArgs),
    /// Dual certificates for a request: signing and escrowed encryption certificate.
    Enrol(CaEnrolArgs),
    /// Revoke a certificate.
    Revoke(CaRevokeArgs),
    /// Suspend a certificate (certificateHold).
    Hold(CaSerialArgs),
    /// Lift a hold.
    Release(CaSerialArgs),
    /// Renew: same key and subject, new serial and validity.
    Renew(CaReissueArgs),
    /// Re-key: same subject, the key of a new request.
    Rekey(CaReissueArgs),
    /// Search certificates.
    Search(CaSearchArgs),
    /// Download one certificate.
    Get(CaGetArgs),
    /// Download a CA's current CRL (DER).
    Crl(CaCrlArgs),
    /// Sign and publish a new CRL now (administrators).
    PublishCrl(CaCrlArgs),
    /// Ask to recover an escrowed encryption key for the key of a new request, and approve
    /// it as the first administrator (dual control: another must approve too).
    Recover(CaRecoverArgs),
    /// Approve a recovery as another administrator; the approval that completes it writes
    /// the key sealed to the request's key.
    ApproveRecovery(AdminApproveArgs),
}

#[derive(Debug, Args)]
pub(crate) struct CaRootsArgs {
    /// The server's URL.
    #[arg(long, env = "YINXIN_SERVER", value_name = "URL")]
    pub(crate) server: String,
    /// Where to write the certificates (PEM).
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// Include the issuing CAs.
    #[arg(long)]
    pub(crate) all: bool,
}

#[derive(Debug, Args)]
pub(crate) struct CaIssueArgs {
    #[command(flatten)]
    pub(crate) server: ServerArgs,
    /// The PKCS#10 request (PEM or DER).
    #[arg(long)]
    pub(crate) csr: PathBuf,
    /// organisation, employee, server, ocsp-signer, timestamping, code-signing, seal-making.
    #[arg(long)]
    pub(crate) profile: String,
    /// Where to write the certificate (PEM).
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// Where to write the CA chain (PEM).
    #[arg(long)]
    pub(crate) chain_out: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) request: RequestArgs,
}

#[derive(Debug, Args)]
pub(crate) struct CaEnrolArgs {
    #[command(flatten)]
    pub(crate) server: ServerArgs,
    /// The PKCS#10 request of the signing key (PEM or DER).
    #[arg(long)]
    pub(crate) csr: PathBuf,
    /// organisation or employee.
    #[arg(long)]
    pub(crate) profile: String,
    /// Where to write the signing certificate (PEM).
    #[arg(long)]
    pub(crate) sign_out: PathBuf,
    /// Where to write the encryption certificate (PEM).
    #[arg(long)]
    pub(crate) enc_out: PathBuf,
    /// Where to write the escrowed key's envelope (DER).
    #[arg(long)]
    pub(crate) envelope_out: PathBuf,
    /// Where to write the CA chain (PEM).
    #[arg(long)]
    pub(crate) chain_out: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) request: RequestArgs,
}

#[derive(Debug, Args)]
pub(crate) struct CaSerialArgs {
    #[command(flatten)]
    pub(crate) server: ServerArgs,
    /// The certificate's serial (hex).
    #[arg(long)]
    pub(crate) serial: String,
    /// The issuing CA, if the serial alone is ambiguous.
    #[arg(long)]
    pub(crate) ca: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct CaRevokeArgs {
    #[command(flatten)]
    pub(crate) serial: CaSerialArgs,
    /// unspecified, keyCompromise, cACompromise, affiliationChanged, superseded,
    /// cessationOfOperation, privilegeWithdrawn, aACompromise.
    #[arg(long, default_value = "unspecified")]
    pub(crate) reason: String,
}

#[derive(Debug, Args)]
pub(crate) struct CaReissueArgs {
    #[command(flatten)]
    pub(crate) serial: CaSerialArgs,
    /// The new key's request (re-key only).
    #[arg(long)]
    pub(crate) csr: Option<PathBuf>,
    /// Lifetime in days.
    #[arg(long)]
    pub(crate) days: Option<u32>,
    /// Where to write the new certificate (PEM).
    #[arg(long)]
    pub(crate) out: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct CaSearchArgs {
    #[command(flatten)]
    pub(crate) server: ServerArgs,
    /// Subject contains.
    #[arg(long)]
    pub(crate) subject: Option<String>,
    /// Organisation is.
    #[arg(long)]
    pub(crate) organisation: Option<String>,
    /// Serial is (hex).
    #[arg(long)]
    pub(crate) serial: Option<String>,
    /// valid, on_hold or revoked.
    #[arg(long)]
    pub(crate) status: Option<String>,
    /// Issued by.
    #[arg(long)]
    pub(crate) ca: Option<String>,
    /// At most this many.
    #[arg(long)]
    pub(crate) limit: Option<u32>,
}

#[derive(Debug, Args)]
pub(crate) struct CaGetArgs {
    #[command(flatten)]
    pub(crate) serial: CaSerialArgs,
    /// pem, der or chain (the certificate and its CAs, PEM).
    #[arg(long, default_value = "pem")]
    pub(crate) format: String,
    /// Where to write it.
    #[arg(long)]
    pub(crate) out: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct CaCrlArgs {
    /// The server's URL.
    #[arg(long, env = "YINXIN_SERVER", value_name = "URL")]
    pub(crate) server: String,
    /// File holding the API token (else $YINXIN_TOKEN); publish-crl only.
    #[arg(long, value_name = "FILE")]
    pub(crate) token_file: Option<PathBuf>,
    /// The CA.
    #[arg(long, default_value = "sm2-issuing")]
    pub(crate) ca: String,
    /// Where to write the CRL (DER).
    #[arg(long)]
    pub(crate) out: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct CaRecoverArgs {
    #[command(flatten)]
    pub(crate) serial: CaSerialArgs,
    /// A PKCS#10 request for the key the recovered key is to be sealed to.
    #[arg(long, value_name = "FILE")]
    pub(crate) csr: PathBuf,
    #[command(flatten)]
    pub(crate) key: crate::cms_commands::KeySource,
}

#[derive(Debug, Subcommand)]
pub(crate) enum AuditCommand {
    /// Verify the whole hash chain on the server and again here.
    Verify(AuditArgs),
    /// Export the log as JSON lines (verified here before writing).
    Export(AuditExportArgs),
}

#[derive(Debug, Args)]
pub(crate) struct AuditArgs {
    #[command(flatten)]
    pub(crate) server: ServerArgs,
}

#[derive(Debug, Args)]
pub(crate) struct AuditExportArgs {
    #[command(flatten)]
    pub(crate) server: ServerArgs,
    /// Where to write the JSON lines.
    #[arg(long)]
    pub(crate) out: PathBuf,
}

#[derive(Debug, Subcommand)]
pub(crate) enum AdminCommand {
    /// Create an API token for a role (shown once).
    CreateToken(AdminTokenArgs),
    /// Disable an API token for good.
    DisableToken(AdminDisableArgs),
    /// Open the ceremony that forms the administrator list (once per server).
    Form(AdminFormArgs),
    /// Register as an administrator at the open ceremony by signing its nonce with your key
    /// (software token, USB key or key file); prints your own administrator token.
    Join(AdminJoinArgs),
    /// List the administrators and the ceremony's state.
    Members(ServerOnlyArgs),
    /// Ask for a dual-control operation (recover-key, revoke-platform-certificate,
    /// hold-platform-certificate, release-platform-certificate, add-administrator,
    /// remove-administrator); with a key, approve it at once as the first administrator.
    Request(AdminRequestArgs),
    /// Approve a request by signing its statement with your registered key.
    Approve(AdminApproveArgs),
    /// Show approval requests (one with --id).
    Approvals(AdminApprovalsArgs),
    /// Cancel a request you made.
    Cancel(AdminIdArgs),
    /// Reject another administrator's request.
    Reject(AdminIdArgs),
    /// Make a new key and certificate for a service identity whose certificate was revoked
    /// or put on hold (tsa-sm2, tsa-rsa, tsa-ecdsa, envelope-sm2, envelope-rsa, signing-sm2,
    /// signing-rsa, sm2-issuing/ocsp, rsa-issuing/ocsp).
    ReplaceService(AdminReplaceServiceArgs),
}

#[derive(Debug, Args)]
pub(crate) struct AdminFormArgs {
    #[command(flatten)]
    pub(crate) server: ServerArgs,
    /// How many administrators the list has.
    #[arg(long)]
    pub(crate) members: u8,
    /// Approvals (from distinct administrators) each dual-control operation needs.
    #[arg(long)]
    pub(crate) approvals: u8,
}

#[derive(Debug, Args)]
pub(crate) struct AdminJoinArgs {
    #[command(flatten)]
    pub(crate) server: ServerArgs,
    /// Your name, as the list shows it.
    #[arg(long)]
    pub(crate) name: String,
    /// Your certificate (PEM or DER); default: the one stored beside the key in the token.
    #[arg(long, value_name = "FILE")]
    pub(crate) cert: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) key: crate::cms_commands::KeySource,
    /// Write your administrator token here (0600) instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct AdminRequestArgs {
    #[command(flatten)]
    pub(crate) server: ServerArgs,
    /// The operation.
    pub(crate) operation: String,
    /// The certificate's serial (hex).
    #[arg(long)]
    pub(crate) serial: Option<String>,
    /// The issuing CA, if the serial alone is ambiguous.
    #[arg(long)]
    pub(crate) ca: Option<String>,
    /// The revocation reason (revoke-platform-certificate).
    #[arg(long)]
    pub(crate) reason: Option<String>,
    /// A PKCS#10 request for the key the recovered key is sealed to (recover-key).
    #[arg(long, value_name = "FILE")]
    pub(crate) csr: Option<PathBuf>,
    /// The new administrator's name (add-administrator).
    #[arg(long)]
    pub(crate) name: Option<String>,
    /// The new administrator's certificate (add-administrator).
    #[arg(long, value_name = "FILE")]
    pub(crate) cert: Option<PathBuf>,
    /// The administrator to remove (remove-administrator).
    #[arg(long)]
    pub(crate) member: Option<String>,
    #[command(flatten)]
    pub(crate) key: crate::cms_commands::KeySource,
}

#[derive(Debug, Args)]
pub(crate) struct AdminApproveArgs {
    #[command(flatten)]
    pub(crate) server: ServerArgs,
    /// The request's id.
    #[arg(long)]
    pub(crate) id: String,
    #[command(flatten)]
    pub(crate) key: crate::cms_commands::KeySource,
    /// For a recovery that this approval executes: write the sealed key here (DER).
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct AdminApprovalsArgs {
    #[command(flatten)]
    pub(crate) server: ServerArgs,
    /// Show this request only.
    #[arg(long)]
    pub(crate) id: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct AdminIdArgs {
    #[command(flatten)]
    pub(crate) server: ServerArgs,
    /// The request's id.
    #[arg(long)]
    pub(crate) id: String,
}

#[derive(Debug, Args)]
pub(crate) struct AdminReplaceServiceArgs {
    #[command(flatten)]
    pub(crate) server: ServerArgs,
    /// The service identity's name.
    pub(crate) name: String,
}

#[derive(Debug, Args)]
pub(crate) struct AdminDisableArgs {
    #[command(flatten)]
    pub(crate) server: ServerArgs,
    /// The token's id (the middle part of yx1.<id>.<secret>).
    #[arg(long)]
    pub(crate) id: String,
}

#[derive(Debug, Args)]
pub(crate) struct AdminTokenArgs {
    #[command(flatten)]
    pub(crate) server: ServerArgs,
    /// Who it is for.
    #[arg(long)]
    pub(crate) name: String,
    /// admin, ra-operator, auditor or key-operator.
    #[arg(long)]
    pub(crate) role: String,
    /// Write the token to this file (0600) instead of standard output.
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct TokenOnly {
    #[command(flatten)]
    pub(crate) token: TokenSelect,
    #[command(flatten)]
    pub(crate) pins: PinArgs,
}

#[derive(Debug, Args)]
pub(crate) struct TokenInitArgs {
    #[command(flatten)]
    pub(crate) token: TokenSelect,
    #[command(flatten)]
    pub(crate) pins: PinArgs,
    /// The token's label.
    #[arg(long, default_value = "yinxin")]
    pub(crate) label: String,
    /// Wrong user PINs allowed before lock-out (software token).
    #[arg(long, default_value_t = 6)]
    pub(crate) max_retries: u32,
}

#[derive(Debug, Args)]
pub(crate) struct TokenKeygenArgs {
    #[command(flatten)]
    pub(crate) token: TokenSelect,
    #[command(flatten)]
    pub(crate) pins: PinArgs,
    /// Container name.
    #[arg(long)]
    pub(crate) container: String,
    /// Key usage.
    #[arg(long, default_value = "sign", value_name = "sign|enc")]
    pub(crate) usage: String,
    /// Key type.
    #[arg(
        long,
        default_value = "sm2",
        value_name = "sm2|rsa2048|rsa3072|rsa4096|ec-p256|ec-p384"
    )]
    pub(crate) alg: String,
}

#[derive(Debug, Args)]
pub(crate) struct TokenImportCertArgs {
    #[command(flatten)]
    pub(crate) token: TokenSelect,
    #[command(flatten)]
    pub(crate) pins: PinArgs,
    /// Container name.
    #[arg(long)]
    pub(crate) container: String,
    /// Key usage the certificate is for.
    #[arg(long, default_value = "sign", value_name = "sign|enc")]
    pub(crate) usage: String,
    /// The certificate (PEM or DER).
    #[arg(long)]
    pub(crate) cert: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct TokenChangePinArgs {
    #[command(flatten)]
    pub(crate) token: TokenSelect,
    #[command(flatten)]
    pub(crate) pins: PinArgs,
    /// Change the SO PIN instead of the user PIN.
    #[arg(long)]
    pub(crate) so: bool,
}

#[derive(Debug, Args)]
pub(crate) struct TokenCsrArgs {
    #[command(flatten)]
    pub(crate) token: TokenSelect,
    #[command(flatten)]
    pub(crate) pins: PinArgs,
    /// Container name.
    #[arg(long)]
    pub(crate) container: String,
    /// Subject, as "/C=CN/O=…/CN=…" or "CN=…,O=…,C=CN".
    #[arg(long)]
    pub(crate) subject: String,
    /// Where to write the request (PEM).
    #[arg(long)]
    pub(crate) out: PathBuf,
    #[command(flatten)]
    pub(crate) scheme: SchemeArgs,
}

#[derive(Debug, Args)]
pub(crate) struct TokenSignArgs {
    #[command(flatten)]
    pub(crate) token: TokenSelect,
    #[command(flatten)]
    pub(crate) pins: PinArgs,
    /// Container name.
    #[arg(long)]
    pub(crate) container: String,
    /// The data to sign.
    #[arg(long = "in")]
    pub(crate) input: PathBuf,
    /// Where to write the signature.
    #[arg(long)]
    pub(crate) out: PathBuf,
    #[command(flatten)]
    pub(crate) scheme: SchemeArgs,
}

#[derive(Debug, Args)]
pub(crate) struct TokenDecryptArgs {
    #[command(flatten)]
    pub(crate) token: TokenSelect,
    #[command(flatten)]
    pub(crate) pins: PinArgs,
    /// Container name.
    #[arg(long)]
    pub(crate) container: String,
    /// The ciphertext.
    #[arg(long = "in")]
    pub(crate) input: PathBuf,
    /// Where to write the plaintext.
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// RSA padding.
    #[arg(long, value_enum, default_value = "oaep-sha256")]
    pub(crate) padding: RsaPadding,
}

#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// Algorithms (default: all): sm2 rsa2048 rsa3072 rsa4096 ecdsap256 ecdsap384 sm3 sha256
    /// sha512 sm4-cbc sm4-gcm aes-128-gcm aes-256-gcm.
    pub(crate) algorithms: Vec<String>,
    /// Seconds per measurement.
    #[arg(long, default_value_t = 2.0)]
    pub(crate) seconds: f64,
}

/// `verify-chain`. Empty values mean "not given" (test harnesses pass `--host ''`).
#[derive(Debug, Args)]
pub(crate) struct VerifyChainArgs {
    /// Trusted root certificates (PEM, any number of blocks, or one DER certificate).
    #[arg(long, value_name = "FILE")]
    pub(crate) roots: PathBuf,
    /// Untrusted intermediate certificates (PEM; the file may be empty).
    #[arg(long, value_name = "FILE")]
    pub(crate) intermediates: Option<PathBuf>,
    /// The certificate to validate.
    #[arg(long, value_name = "FILE")]
    pub(crate) leaf: PathBuf,
    /// CRLs to check revocation against (PEM `X509 CRL` blocks or one DER CRL; may be empty).
    #[arg(long, value_name = "FILE")]
    pub(crate) crls: Option<PathBuf>,
    /// Validation time, RFC 3339 (e.g. 2024-01-01T00:00:00Z); default now.
    #[arg(long, value_name = "RFC3339")]
    pub(crate) time: Option<String>,
    /// Expected peer name: DNS name, IP address or e-mail address.
    #[arg(long, value_name = "NAME")]
    pub(crate) host: Option<String>,
    /// Required purposes, comma-separated.
    #[arg(
        long,
        value_name = "serverAuth|clientAuth|codeSigning|emailProtection|timeStamping|OCSPSigning|any"
    )]
    pub(crate) purpose: Option<String>,
    /// At most this many intermediates (self-issued ones not counted).
    #[arg(long, value_name = "N")]
    pub(crate) max_depth: Option<String>,
    /// SM2 signer ID of the CAs (default 1234567812345678).
    #[arg(long)]
    pub(crate) sm2_id: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct BenchServerArgs {
    /// The server's URL; without it an authority runs in this process on a temporary store.
    #[arg(long, value_name = "URL")]
    pub(crate) server: Option<String>,
    /// File holding an API token allowed to issue (else $YINXIN_TOKEN); with --server.
    #[arg(long, value_name = "FILE")]
    pub(crate) token_file: Option<PathBuf>,
    /// What to measure: issue-sm2, issue-rsa, ocsp-cached-sm2, ocsp-cached-rsa,
    /// ocsp-fresh-sm2, ocsp-fresh-rsa, tsa-sm2, tsa-rsa, tsa-ecdsa (default: all).
    pub(crate) what: Vec<String>,
    /// Seconds per measurement.
    #[arg(long, default_value_t = 5.0)]
    pub(crate) seconds: f64,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 32)]
    pub(crate) concurrency: usize,
}

/// `token import-key`.
#[derive(Debug, Args)]
pub(crate) struct TokenImportKeyArgs {
    #[command(flatten)]
    pub(crate) token: TokenSelect,
    #[command(flatten)]
    pub(crate) pins: PinArgs,
    /// Container whose signing key the envelope is sealed to.
    #[arg(long)]
    pub(crate) container: String,
    /// The envelope (DER): GB/T 35276 SM2EnvelopedKey or CMS EnvelopedData.
    #[arg(long)]
    pub(crate) envelope: PathBuf,
    /// The encryption certificate to store with the key (PEM or DER).
    #[arg(long)]
    pub(crate) cert: Option<PathBuf>,
}
