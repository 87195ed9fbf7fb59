//! Command-line arguments (clap derive). The doc comments are the help text.

use crate::ingest::{Encoding, SourceKind};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

const EXIT_CODES: &str = "Exit codes: 0 = ok; 1 = ran, but the answer is no; 2 = could not run (bad input, I/O, usage).";

/// Turns IT asset, MDM, encryption and media-wipe exports into evidence an auditor accepts.
#[derive(Debug, Parser)]
#[command(name = "evident", version, about, after_help = EXIT_CODES)]
pub struct Cli {
    /// Defaults for flags left out (store, organisation, source_tz, status_map, controls, keys).
    /// Default: evident.toml in the working directory, else beside the store.
    #[arg(long, global = true, env = "EVIDENT_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Where the store is.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// The SQLite store (only `ingest` and `pull` create it; every other command needs it to exist).
    /// Default: `store` in evident.toml, else evident.db.
    #[arg(long, global = true, env = "EVIDENT_STORE")]
    pub store: Option<PathBuf>,
    /// Seconds to wait for another evident process that is writing to the store.
    #[arg(long, global = true, default_value_t = 60)]
    pub wait: u64,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Ingest exports into the store: one transaction per file; all rows or none.
    #[command(after_help = EXIT_CODES)]
    Ingest(IngestArgs),
    /// Fetch every device from a source's API (Intune, Jamf Pro, Kandji, Fleet, Snipe-IT, Google)
    /// into the store: each page kept byte for byte as an ingest, the pages' sum checked against
    /// the source's total, all pages or none. Servers and credentials: [pull] in evident.toml.
    #[command(after_help = "Exit codes: 0 = every source pulled; 2 = a source could not be pulled (it stored nothing; the others are kept).")]
    Pull(PullArgs),
    /// Show the joined per-asset view: each device across register, MDM, encryption and wipes.
    #[command(after_help = EXIT_CODES)]
    Assets(AssetsArgs),
    /// List the ingests in the store, with their row counts and whether each is live.
    #[command(after_help = EXIT_CODES)]
    Ingests(FormatArgs),
    /// Take an ingest out of evaluation (a wrong file, a wrong as-of): it stays in the store and
    /// every later pack lists it with the reason. Nothing is deleted.
    #[command(after_help = EXIT_CODES)]
    Retract(RetractArgs),
    /// Check, list or show the controls (controls/*.yaml and the catalogs in controls/frameworks/).
    #[command(subcommand, after_help = EXIT_CODES)]
    Controls(ControlsCommand),
    /// Evaluate every control at a date (Type I) or over a period (Type II).
    #[command(
        after_help = "Exit codes: 0 = ran (and, with --deny, nothing it denies happened); 1 = --deny was given and a control failed (or, with --deny alone or --deny no-evidence, had no evidence in force); 2 = could not run (e.g. the store does not exist)."
    )]
    Evaluate(EvaluateArgs),
    /// Make an Ed25519 key pair: NAME.key.pem (PKCS#8, mode 0600), NAME.pub.pem and a trust line.
    #[command(after_help = EXIT_CODES)]
    Keygen(KeygenArgs),
    /// Build the next signed, hash-chained evidence pack of the store (docs/FORMAT.md).
    #[command(after_help = EXIT_CODES)]
    Pack(PackArgs),
    /// NIST SP 800-88 certificates of sanitization: new, sign, countersign, render (docs/certificates.md).
    #[command(subcommand, after_help = EXIT_CODES)]
    Certificate(CertificateCommand),
    /// Shell completions for evident (bash, zsh, fish, elvish, powershell), on standard output.
    #[command(after_help = "Install, e.g.: evident completions bash > ~/.local/share/bash-completion/completions/evident")]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// The evident(1) man page (roff), on standard output.
    #[command(after_help = "Install, e.g.: evident man > ~/.local/share/man/man1/evident.1")]
    Man,
    /// What moved between two packs: controls whose status changed, items that became or stopped
    /// being exceptions. Verify both packs first; diff reads their results as they are.
    #[command(after_help = EXIT_CODES)]
    Diff(DiffArgs),
    /// Verify offline: a pack (directory, .tar or .zip), a certificate (.json or .pdf), or an
    /// audit sample (.json, with --pack).
    #[command(
        after_help = "Exit codes: 0 = verified; 1 = checked, and something failed (each failure has a code); 2 = could not run (unreadable pack or trust list, usage)."
    )]
    Verify(VerifyArgs),
    /// Draw an audit sample from a verified pack: items ranked by a SHA-256 of your seed, the
    /// pack and each item, the smallest taken; signed by your auditor key (docs/FORMAT.md §8).
    #[command(after_help = EXIT_CODES)]
    Sample(SampleArgs),
    /// Everything a pack (or the store) holds on one device: its records in every source, the raw
    /// rows, each control's outcome for it at each sample date, and its certificates.
    #[command(after_help = EXIT_CODES)]
    Trace(TraceArgs),
}

#[derive(Debug, Args)]
pub struct SampleArgs {
    /// The pack (directory, .tar or .zip): it must verify against --trust first.
    pub pack: PathBuf,
    /// Trusted keys (the pack's compliance key among them).
    #[arg(long)]
    pub trust: PathBuf,
    /// Sample a control's population (results/controls/ID/DATE.jsonl).
    #[arg(long, required_unless_present = "population", conflicts_with = "population")]
    pub control: Option<String>,
    /// The control's sample date (needed when the pack has several, a period pack).
    #[arg(long, requires = "control")]
    pub sample_date: Option<chrono::NaiveDate>,
    /// Any other population of the pack: a JSONL file under results/ (e.g. results/assets/DATE.jsonl),
    /// or `certificates/` or `sources/` (the pack's certificates, or its raw exports).
    #[arg(long)]
    pub population: Option<String>,
    /// Only items with these outcomes (e.g. --outcome fail --outcome excepted: the exceptions).
    #[arg(long, value_parser = ["pass", "fail", "excepted"])]
    pub outcome: Vec<String>,
    /// How many items to take (all of a smaller population).
    #[arg(long, conflicts_with = "size_table")]
    pub size: Option<u64>,
    /// A size table by population (TOML `[[band]]` entries: `up_to` and one of `all = true`,
    /// `take = N`, `percent = P`). Default, without --size: up to 5 → all, 6–50 → 5, 51–250 →
    /// 10 % rounded up, over 250 → 25.
    #[arg(long)]
    pub size_table: Option<PathBuf>,
    /// Your seed: text you choose (a dice roll, a number). Recorded in the sample.
    #[arg(long)]
    pub seed: String,
    /// Your private key, made with `keygen --role auditor`.
    #[arg(long)]
    pub key: PathBuf,
    /// A file holding the key's passphrase (else EVIDENT_KEY_PASSPHRASE, else asked on a terminal).
    #[arg(long)]
    pub passphrase_file: Option<PathBuf>,
    /// Where the signed sample goes (canonical JSON). Never overwritten.
    #[arg(long)]
    pub out: PathBuf,
    /// Also write the workpaper as an .xlsx file (one row per item, columns for your testing).
    #[arg(long)]
    pub xlsx: Option<PathBuf>,
    /// Also write the workpaper as CSV.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// A Time-Stamping Authority (RFC 3161) to time-stamp your signature: when the sample was
    /// drawn, said by a TSA. Repeat for fallbacks; if none answers well, nothing is written.
    #[arg(long, value_name = "URL")]
    pub tsa: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct TraceArgs {
    /// The device: its serial, asset tag, or an item key of a population (e.g. drive:SERIAL).
    pub key: String,
    /// The pack (directory, .tar or .zip) to read; it must verify against --trust. Without it,
    /// the store's joined view is traced (records and raw rows; the controls' outcomes with
    /// --as-of or --period).
    #[arg(long, requires = "trust")]
    pub pack: Option<PathBuf>,
    /// Trusted keys, to verify the pack first.
    #[arg(long, requires = "pack")]
    pub trust: Option<PathBuf>,
    /// From the store: evaluate the controls at this date or period too (--as-of, --period), and
    /// show each control's outcome for the device at each sample date.
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

#[derive(Debug, Subcommand)]
pub enum CertificateCommand {
    /// Build unsigned certificates from the store's wipe records, one JSON file each.
    New(CertificateNewArgs),
    /// Sign certificates as the person who performed the sanitization (in place).
    Sign(CertificateSignArgs),
    /// Countersign certificates as an independent verifier (in place; needs the performer's signature).
    Countersign(CertificateSignArgs),
    /// Render certificates to PDF (the signed JSON is attached inside; same input, same bytes).
    Render(CertificateRenderArgs),
    /// Bring certificates signed or countersigned elsewhere (another machine) back into the store:
    /// each must be one the store holds, with signatures added; all or none.
    Import(CertificateImportArgs),
    /// Withdraw a stored certificate: a revocation signed by a performer's or verifier's key,
    /// written beside the certificates and kept in the store; packs carry it.
    Revoke(CertificateRevokeArgs),
}

/// Who signs a certificate or a revocation: the key, its passphrase, the name and the time.
#[derive(Debug, Args)]
pub struct SignerArgs {
    /// Your private key: a performer's to sign, a verifier's to countersign, either to revoke.
    /// Default: `[keys] performer` or `verifier` in evident.toml.
    #[arg(long)]
    pub key: Option<PathBuf>,
    /// A file holding the key's passphrase, if it is encrypted (else EVIDENT_KEY_PASSPHRASE, else
    /// asked on a terminal).
    #[arg(long)]
    pub passphrase_file: Option<PathBuf>,
    /// Your name as the signature records it (checked by `verify` against the trust list).
    /// Default: the name keygen wrote in NAME.trust beside the key.
    #[arg(long)]
    pub name: Option<String>,
    /// The signing time recorded in the signature (RFC 3339). Default: SOURCE_DATE_EPOCH if
    /// set, else now: a signature's own time is a fact of the signing.
    #[arg(long, value_name = "RFC3339")]
    pub signed_at: Option<String>,
}

#[derive(Debug, Args)]
pub struct CertificateRevokeArgs {
    /// The certificate's id (COS-…), as the store holds it.
    pub id: String,
    /// Why it is withdrawn.
    #[arg(long)]
    pub reason: String,
    #[command(flatten)]
    pub signer: SignerArgs,
    /// Directory for the revocation file (ID.revocation.json).
    #[arg(long)]
    pub out: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct CertificateImportArgs {
    /// Certificate JSON files, or directories of them.
    #[arg(required = true)]
    pub certificates: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct CertificateNewArgs {
    /// Drive serial numbers (one certificate each unless --per says otherwise).
    #[arg(long, num_args = 1..)]
    pub drive: Vec<String>,
    /// Asset tags or system serials: all drives wiped from each asset.
    #[arg(long, num_args = 1..)]
    pub asset: Vec<String>,
    /// Lot or pallet ids: all drives of each lot.
    #[arg(long, num_args = 1..)]
    pub lot: Vec<String>,
    /// Also certify drives whose sanitization was not verified (none or unknown on record, or a
    /// visual check of anything but destruction); each such drive's certificate says NOT VERIFIED.
    #[arg(long)]
    pub unverified: bool,
    /// Every successfully sanitized drive in the store.
    #[arg(long, conflicts_with_all = ["drive", "asset", "lot"])]
    pub all: bool,
    /// Split or group the selection: one certificate per drive, asset or lot.
    /// Default: what was selected (--all: per drive).
    #[arg(long, value_enum)]
    pub per: Option<crate::certificate::Per>,
    /// Leave out drives whose wipe did not succeed (they are listed) instead of stopping.
    #[arg(long)]
    pub skip_failed: bool,
    /// The person who performed the sanitization (default: the operator or vendor in the record).
    #[arg(long)]
    pub performer: Option<String>,
    /// The organisation the media belonged to (default: the one in the record).
    #[arg(long)]
    pub organisation: Option<String>,
    /// Classification of the data the media held, e.g. "Confidential".
    #[arg(long)]
    pub classification: Option<String>,
    /// Where the media went after sanitization, e.g. "Reuse" or "Recycled by Acme ITAD".
    #[arg(long)]
    pub destination: Option<String>,
    /// Technique × media → Clear/Purge/Destroy table replacing the shipped one (YAML).
    #[arg(long)]
    pub method_table: Option<PathBuf>,
    /// A correction: this certificate supersedes the stored certificate with this id (which
    /// stands withdrawn); give --reason too. The correction gets an id of its own.
    #[arg(long, value_name = "COS-ID", requires = "reason")]
    pub supersedes: Option<String>,
    /// Why the superseded certificate was wrong (recorded in the new, signed record).
    #[arg(long, requires = "supersedes")]
    pub reason: Option<String>,
    /// Directory for the certificate files (created if missing; existing files are not overwritten).
    #[arg(long)]
    pub out: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct CertificateSignArgs {
    /// Certificate JSON files, or directories of them.
    #[arg(required = true)]
    pub certificates: Vec<PathBuf>,
    #[command(flatten)]
    pub signer: SignerArgs,
    /// A Time-Stamping Authority (RFC 3161) to time-stamp each new signature: the certificate
    /// gains the TSA's reply. Repeat for fallbacks; if none answers well, nothing is signed.
    #[arg(long, value_name = "URL")]
    pub tsa: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct CertificateRenderArgs {
    /// Certificate JSON files, or directories of them.
    #[arg(required = true)]
    pub certificates: Vec<PathBuf>,
    /// Directory for the PDFs (default: next to each JSON file, same name with .pdf).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Render unsigned certificates too, each page marked "DRAFT — not signed" (for review
    /// before signing; a draft never verifies).
    #[arg(long)]
    pub draft: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

/// Where the controls are.
#[derive(Debug, Args)]
pub struct ControlsDir {
    /// Directory of control files, with the framework catalogs in its frameworks/ subdirectory.
    /// Default: ./controls if it exists, else the controls built into evident.
    #[arg(long, env = "EVIDENT_CONTROLS")]
    pub controls: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ControlsCommand {
    /// Load every control and catalog and report every problem (file:line:col); exit 2 on any.
    Check {
        #[command(flatten)]
        dir: ControlsDir,
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
    },
    /// One line per control: id@version, test, kind, title.
    List {
        #[command(flatten)]
        dir: ControlsDir,
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
    },
    /// One control in full, with its mappings.
    Show {
        /// The control id, e.g. ENC-01.
        id: String,
        #[command(flatten)]
        dir: ControlsDir,
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
    },
}

/// The scope of an evaluation or pack, and its inputs.
#[derive(Debug, Args)]
pub struct ScopeArgs {
    /// The date the evidence states (YYYY-MM-DD); defaults to the date of SOURCE_DATE_EPOCH if set.
    #[arg(long, conflicts_with = "period")]
    pub as_of: Option<String>,
    /// The period covered: FROM..TO, both dates included.
    #[arg(long)]
    pub period: Option<String>,
    /// How often state controls are sampled in a period (only with --period).
    #[arg(long, value_enum, default_value = "monthly", conflicts_with = "as_of")]
    pub cadence: crate::evaluate::Cadence,
    #[command(flatten)]
    pub dir: ControlsDir,
    /// Exceptions register (YAML: item, control, reason, approved_by, ticket, valid_from, expires).
    #[arg(long)]
    pub exceptions: Option<PathBuf>,
    /// Whose evidence this is: named in the results, the report and the OSCAL files. A pack needs it.
    #[arg(long, env = "EVIDENT_ORGANISATION")]
    pub organisation: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Framework {
    Soc2,
    Iso27001,
    Iso19770,
}

impl Framework {
    pub fn key(self) -> &'static str {
        match self {
            Framework::Soc2 => "soc2",
            Framework::Iso27001 => "iso27001",
            Framework::Iso19770 => "iso19770",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Deny {
    /// Failures only.
    Fail,
    /// Failures, and controls without evidence in force at some sample date.
    NoEvidence,
}

#[derive(Debug, Args)]
pub struct EvaluateArgs {
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Regroup the results by this framework's criteria (and list the uncovered ones).
    #[arg(long, value_enum)]
    pub framework: Option<Framework>,
    /// With --framework iso27001: the Statement-of-Applicability view of Annex A.
    #[arg(long, requires = "framework")]
    pub soa: bool,
    /// Exit 1 when a control fails (`--deny fail`), or fails or has no evidence in force at
    /// some sample date (`--deny no-evidence`, the default when --deny is given alone).
    #[arg(long, value_enum, num_args = 0..=1, default_missing_value = "no-evidence")]
    pub deny: Option<Deny>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// What the key signs: compliance (packs), performer or verifier (certificates), auditor (samples).
    #[arg(long, value_enum)]
    pub role: crate::sign::Role,
    /// The key holder, as the auditor should read it (e.g. "Dana Roe <dana@fernhill.example>").
    #[arg(long)]
    pub name: String,
    /// Directory for the key files (created if missing; existing keys are never overwritten).
    #[arg(long)]
    pub out: PathBuf,
    /// Encrypt the private key with the passphrase in this file (else EVIDENT_KEY_PASSPHRASE,
    /// else asked on a terminal).
    #[arg(long, conflicts_with = "no_passphrase")]
    pub passphrase_file: Option<PathBuf>,
    /// Write the private key unencrypted (automation, a key held by a secrets manager).
    #[arg(long)]
    pub no_passphrase: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct PackArgs {
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// The compliance private key (PKCS#8 PEM, from `evident keygen` or `openssl genpkey`).
    /// Default: `[keys] compliance` in evident.toml.
    #[arg(long)]
    pub key: Option<PathBuf>,
    /// A file holding the key's passphrase, if it is encrypted (else EVIDENT_KEY_PASSPHRASE, else
    /// asked on a terminal).
    #[arg(long)]
    pub passphrase_file: Option<PathBuf>,
    /// The pack directory to create (must not exist).
    #[arg(long)]
    pub out: PathBuf,
    /// Also write one deterministic archive of the pack next to it.
    #[arg(long, value_enum)]
    pub archive: Option<crate::pack::archive::Kind>,
    /// A Time-Stamping Authority (RFC 3161, http or https) to time-stamp manifest.json: the pack
    /// gains manifest.tsr. Repeat for fallbacks, tried in order; if none answers with a valid
    /// token, no pack is written (exit 2). Default: `tsa` in evident.toml.
    #[arg(long, value_name = "URL")]
    pub tsa: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A pack (directory, .tar or .zip), a certificate (.json, or the .pdf that embeds it), or a
    /// sample (.json; with --pack).
    pub pack: PathBuf,
    /// The roots (PEM) of the Time-Stamping Authorities you trust: a pack's manifest.tsr is then
    /// checked (signature, chain, timeStamping EKU, imprint) and must be there. Without it a token
    /// is reported as present but unchecked.
    #[arg(long, value_name = "ROOTS.pem")]
    pub tsa_trust: Vec<PathBuf>,
    /// For a sample: the pack it was drawn from (the pack is verified too, and the selection
    /// re-derived from it). For a certificate: a pack to check it is still current in (not
    /// revoked, not superseded by a correction).
    #[arg(long = "pack", value_name = "PACK")]
    pub sample_pack: Option<PathBuf>,
    /// Trusted keys: one `ROLE PUBLIC_KEY_HEX NAME` per line (the .trust lines `keygen` writes).
    #[arg(long)]
    pub trust: PathBuf,
    /// An older pack, or a checkpoint you kept (`--checkpoint`), or an older pack's ledger.jsonl:
    /// this pack must be newer and extend that chain unchanged.
    #[arg(long)]
    pub since: Option<PathBuf>,
    /// After a pack verifies, write its checkpoint here: the chain it vouches for, ending with its
    /// own seq and manifest hash (JSON lines). Keep it; pass it as --since next time, so a rewrite
    /// of this very pack is caught too. Not written when verification fails.
    #[arg(long, value_name = "FILE")]
    pub checkpoint: Option<PathBuf>,
    /// What the file must be: a pack, a certificate or a sample (exit 2 if it is another kind),
    /// so a script cannot be handed a certificate where it checks a pack.
    #[arg(long, value_enum)]
    pub expect: Option<Expect>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

/// The kinds of file `verify` checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Expect {
    Pack,
    Certificate,
    Sample,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The older pack (directory, .tar or .zip).
    pub older: PathBuf,
    /// The newer pack.
    pub newer: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

#[derive(Debug, Args)]
pub struct FormatArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Export files (CSV, JSON or log); the format is detected unless --source names it. `-` reads one export from standard input (with --source).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Read the files as this source instead of detecting it.
    #[arg(long, value_enum)]
    pub source: Option<SourceKind>,
    /// Byte encoding: auto (UTF-8 with or without BOM, UTF-16 with BOM) or windows-1252.
    #[arg(long, value_enum, default_value = "auto")]
    pub encoding: Encoding,
    /// IANA time zone for timestamps without offset (Snipe-IT, nwipe, CSV exports), e.g. Europe/Berlin.
    #[arg(long)]
    pub source_tz: Option<String>,
    /// The export's as-of time (RFC 3339 or YYYY-MM-DD), when the file does not carry it.
    #[arg(long)]
    pub as_of: Option<String>,
    /// strftime format of dates in ITAD or Snipe-IT import CSVs, e.g. '%d/%m/%Y'.
    #[arg(long)]
    pub date_format: Option<String>,
    /// YAML map from Snipe-IT status label to lifecycle (e.g. `Sent to ITAD: disposed`).
    #[arg(long)]
    pub status_map: Option<PathBuf>,
    /// Store the accepted rows even if some are rejected; each rejection is recorded with its line.
    #[arg(long)]
    pub allow_rejects: bool,
    /// Which of the customer's own report fields (Blancco user data) holds a canonical field,
    /// e.g. --user-field 'asset_tag=Custom 1'. Fields: asset_tag, lot, operator.
    #[arg(long, value_name = "FIELD=NAME")]
    pub user_field: Vec<String>,
    /// Read the files through this mapping file (YAML: columns or JSON keys to canonical fields)
    /// instead of a built-in reader; see docs/ingest.md.
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,
    /// This export corrects ingest N: N stays in the audit trail (and in packs, marked
    /// superseded) but no longer counts in evaluation. One file only.
    #[arg(long, value_name = "N")]
    pub supersedes: Option<i64>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Print every warning kept for the report (up to 200 per file), not only the first 10.
    #[arg(long, short, conflicts_with = "quiet")]
    pub verbose: bool,
    /// Print only each file's summary line, with the warnings counted by kind.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct PullArgs {
    /// The sources to pull; each needs its [pull.SOURCE] table in evident.toml.
    #[arg(value_enum, required_unless_present = "all")]
    pub sources: Vec<crate::pull::Kind>,
    /// Every source evident.toml has a [pull.SOURCE] table for (for unattended runs).
    #[arg(long, conflicts_with = "sources")]
    pub all: bool,
    /// The as-of of what is pulled (RFC 3339 or YYYY-MM-DD); the pull's start by default.
    #[arg(long)]
    pub as_of: Option<String>,
    /// IANA time zone for the source's timestamps without offset (Snipe-IT).
    #[arg(long)]
    pub source_tz: Option<String>,
    /// YAML map from Snipe-IT status label to lifecycle.
    #[arg(long)]
    pub status_map: Option<PathBuf>,
    /// Store the accepted rows even if some are rejected; each rejection is recorded.
    #[arg(long)]
    pub allow_rejects: bool,
    /// PEM roots to trust instead of the platform's (on-premises servers with a private CA).
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Print nothing per page (the summary still prints).
    #[arg(long, short)]
    pub quiet: bool,
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// The [pull] table of evident.toml.
    #[arg(skip)]
    pub config: Box<super::config::Pull>,
}

#[derive(Debug, Args)]
pub struct RetractArgs {
    /// The ingest's number (`evident ingests` lists them).
    pub ingest: i64,
    /// Why it no longer counts (recorded, and listed in every later pack).
    #[arg(long)]
    pub reason: String,
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct AssetsArgs {
    /// Columns as wide as their widest value (by default long values are cut short with …).
    #[arg(long)]
    pub wide: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}
