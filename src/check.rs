//! One line of a verification verdict: a code (documented in docs/FORMAT.md or
//! docs/certificates.md), whether it passed, and what was found. Shared by packs and certificates.

use serde::Serialize;

/// Declares the closed set of check codes, each with the text users, scripts and the docs see.
macro_rules! codes {
    ($($name:ident = $text:literal),+ $(,)?) => {
        /// Every check code `verify` reports (passes and failures).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        pub enum Code { $(#[serde(rename = $text)] $name),+ }

        impl Code {
            /// Every code, in declaration order.
            pub const ALL: &'static [Code] = &[$(Code::$name),+];
            /// The code as printed and documented.
            pub fn as_str(self) -> &'static str { match self { $(Code::$name => $text),+ } }
        }
    };
}

codes! {
    ArchiveCanonical = "archive-canonical",
    ArchiveNotCanonical = "archive-not-canonical",
    ArchiveSafe = "archive-safe",
    ArchiveUnsafe = "archive-unsafe",
    CertificateInvalid = "certificate-invalid",
    CertificateNotCanonical = "certificate-not-canonical",
    CertificateRevoked = "certificate-revoked",
    CertificateSuperseded = "certificate-superseded",
    Certificates = "certificates",
    Chain = "chain",
    ChainFork = "chain-fork",
    ChainGap = "chain-gap",
    ChainPrevMismatch = "chain-prev-mismatch",
    ChainRollback = "chain-rollback",
    Countersignature = "countersignature",
    Current = "current",
    CountersignatureInvalid = "countersignature-invalid",
    CountersignatureMissing = "countersignature-missing",
    CountersignerNotIndependent = "countersigner-not-independent",
    EncodingNotCanonical = "encoding-not-canonical",
    FileHashMismatch = "file-hash-mismatch",
    FileMissing = "file-missing",
    FileTooLarge = "file-too-large",
    FileUnexpected = "file-unexpected",
    Files = "files",
    Format = "format",
    FormatUnsupported = "format-unsupported",
    KeyInvalid = "key-invalid",
    KeyMismatch = "key-mismatch",
    KeyMissing = "key-missing",
    KeyTrusted = "key-trusted",
    KeyUntrusted = "key-untrusted",
    KeyWrongRole = "key-wrong-role",
    LedgerInvalid = "ledger-invalid",
    LedgerRewritten = "ledger-rewritten",
    ManifestInvalid = "manifest-invalid",
    ManifestNotCanonical = "manifest-not-canonical",
    MerkleMismatch = "merkle-mismatch",
    MerkleRoot = "merkle-root",
    Pack = "pack",
    PackInvalid = "pack-invalid",
    PackMismatch = "pack-mismatch",
    PathUnsafe = "path-unsafe",
    PdfAttachment = "pdf-attachment",
    PdfAttachmentMissing = "pdf-attachment-missing",
    PdfRendering = "pdf-rendering",
    PdfRenderingMismatch = "pdf-rendering-mismatch",
    PdfRenderingSkipped = "pdf-rendering-skipped",
    Population = "population",
    PopulationMismatch = "population-mismatch",
    RecordHash = "record-hash",
    RecordHashMismatch = "record-hash-mismatch",
    RevocationInvalid = "revocation-invalid",
    SampleHash = "sample-hash",
    SampleHashMismatch = "sample-hash-mismatch",
    SampleInvalid = "sample-invalid",
    SampleMismatch = "sample-mismatch",
    SampleNotCanonical = "sample-not-canonical",
    Selection = "selection",
    Signature = "signature",
    SignerNameMismatch = "signer-name-mismatch",
    SignatureInvalid = "signature-invalid",
    SignatureMissing = "signature-missing",
    Since = "since",
    SinceInvalid = "since-invalid",
    Sums = "sums",
    SumsMismatch = "sums-mismatch",
    Timestamp = "timestamp",
    TimestampBackwards = "timestamp-backwards",
    TimestampInvalid = "timestamp-invalid",
    TimestampMismatch = "timestamp-mismatch",
    TimestampMissing = "timestamp-missing",
    TimestampUnchecked = "timestamp-unchecked",
    TimestampUntrusted = "timestamp-untrusted",
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// One line of the verdict.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub code: Code,
    pub ok: bool,
    pub detail: String,
}
