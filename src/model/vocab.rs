//! The closed vocabularies of the canonical model (research/inputs.md §8.3).
//! Every enum has a stable lower-case text form used in the store, JSON and reports.

/// Declares a closed vocabulary: an enum with its text form, `parse` and `ALL`.
macro_rules! vocab {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $var:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        pub enum $name { $($(#[$vmeta])* #[serde(rename = $text)] $var),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$var),+];
            /// The stable text form.
            pub fn as_str(self) -> &'static str { match self { $($name::$var => $text),+ } }
            /// Parses the stable text form (exact match).
            pub fn parse(text: &str) -> Option<Self> { match text { $($text => Some($name::$var),)+ _ => None } }
            /// The text forms joined with `|`, for messages.
            pub fn expected() -> String { [$($text),+].join("|") }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }

        // The store keeps the text form; reading back a text no vocabulary knows is an error,
        // never a silent default.
        impl rusqlite::types::FromSql for $name {
            fn column_result(v: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
                let text = v.as_str()?;
                $name::parse(text).ok_or_else(|| rusqlite::types::FromSqlError::Other(format!("'{text}' is not a {} ({})", stringify!($name), $name::expected()).into()))
            }
        }

        impl rusqlite::types::ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                Ok(self.as_str().into())
            }
        }
    };
}

vocab! {
    /// Where a serial came from and whether it may be used as a join key.
    SerialQuality { Ok = "ok", Missing = "missing", Placeholder = "placeholder", Virtual = "virtual", Malformed = "malformed" }
}

vocab! {
    /// Kind of hardware.
    DeviceClass { Laptop = "laptop", Desktop = "desktop", Server = "server", Mobile = "mobile", Tablet = "tablet", Media = "media", Other = "other", Unknown = "unknown" }
}

vocab! {
    /// Who or what an asset is checked out to.
    AssigneeKind { User = "user", Location = "location", Asset = "asset", None = "none" }
}

vocab! {
    /// Corporate or personal ownership.
    Ownership { Corporate = "corporate", Personal = "personal", Unknown = "unknown" }
}

vocab! {
    /// Where an asset is in its life, as the register says.
    Lifecycle {
        OnOrder = "on_order", InStock = "in_stock", Deployed = "deployed", Pending = "pending",
        InRepair = "in_repair", Broken = "broken", LostStolen = "lost_stolen", Retired = "retired",
        Disposed = "disposed", Unknown = "unknown",
    }
}

vocab! {
    /// The management system an enrollment record comes from.
    Mdm { Intune = "intune", Jamf = "jamf", Kandji = "kandji", Fleet = "fleet", Google = "google", Other = "other" }
}

vocab! {
    /// Whether a device is enrolled in its MDM.
    EnrollmentState { Enrolled = "enrolled", Pending = "pending", Unenrolled = "unenrolled", Unknown = "unknown" }
}

vocab! {
    /// How a device came to be enrolled.
    EnrollmentMethod { Automated = "automated", User = "user", Byod = "byod", Unknown = "unknown" }
}

vocab! {
    /// The MDM's own compliance verdict.
    Compliance { Compliant = "compliant", Noncompliant = "noncompliant", GracePeriod = "grace_period", NotEvaluated = "not_evaluated", Unknown = "unknown" }
}

vocab! {
    /// Operating-system family.
    Platform { Macos = "macos", Windows = "windows", Linux = "linux", Ios = "ios", Ipados = "ipados", Android = "android", Chromeos = "chromeos", Other = "other" }
}

vocab! {
    /// What an encryption record describes.
    EncryptionScope { Device = "device", BootVolume = "boot_volume", DataVolume = "data_volume" }
}

vocab! {
    /// Encryption state of a device or volume. `not_applicable` and `unknown` are never `not_encrypted`.
    EncryptionState {
        Encrypted = "encrypted", Encrypting = "encrypting", Decrypting = "decrypting", Paused = "paused",
        Suspended = "suspended", NotEncrypted = "not_encrypted", NotApplicable = "not_applicable", Unknown = "unknown",
    }
}

vocab! {
    /// Encryption technology.
    EncryptionMethod { Filevault = "filevault", Bitlocker = "bitlocker", Luks = "luks", Apfs = "apfs", Other = "other", Unknown = "unknown" }
}

vocab! {
    /// Whether a recovery key is escrowed, and valid.
    RecoveryKey { EscrowedValid = "escrowed_valid", Escrowed = "escrowed", Invalid = "invalid", NotEscrowed = "not_escrowed", NotApplicable = "not_applicable", Unknown = "unknown" }
}

vocab! {
    /// Which recovery keys exist.
    KeyType { Personal = "personal", Institutional = "institutional", Both = "both", Unknown = "unknown" }
}

vocab! {
    /// Kind of storage medium.
    MediaType { Hdd = "hdd", Ssd = "ssd", Nvme = "nvme", Usb = "usb", Mobile = "mobile", Other = "other", Unknown = "unknown" }
}

vocab! {
    /// The tool or party that sanitized a medium.
    WipeTool { Nwipe = "nwipe", Blancco = "blancco", ItadVendor = "itad_vendor", Other = "other" }
}

vocab! {
    /// Sanitization technique (NIST SP 800-88 vocabulary).
    Technique {
        Overwrite = "overwrite", BlockErase = "block_erase", CryptoErase = "crypto_erase", Sanitize = "sanitize",
        SecureErase = "secure_erase", Degauss = "degauss", Shred = "shred", Disintegrate = "disintegrate",
        Incinerate = "incinerate", Other = "other", Unknown = "unknown",
    }
}

vocab! {
    /// NIST SP 800-88 method category.
    NistCategory { Clear = "clear", Purge = "purge", Destroy = "destroy", Unknown = "unknown" }
}

vocab! {
    /// How a sanitization was verified.
    Verification { None = "none", LastPass = "last_pass", AllPasses = "all_passes", Full = "full", Sample = "sample", Visual = "visual", Unknown = "unknown" }
}

vocab! {
    /// Outcome of a sanitization.
    WipeResult { Success = "success", Failed = "failed", Aborted = "aborted", Incomplete = "incomplete", Unknown = "unknown" }
}

vocab! {
    /// Whether a hidden area (HPA/DCO) was found on the drive.
    HpaDco { None = "none", Present = "present", Unknown = "unknown" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_forms_round_trip() {
        for v in Lifecycle::ALL {
            assert_eq!(Lifecycle::parse(v.as_str()), Some(*v));
        }
        for v in EncryptionState::ALL {
            assert_eq!(EncryptionState::parse(v.as_str()), Some(*v));
        }
        assert_eq!(Lifecycle::parse("Disposed"), None);
    }
}
