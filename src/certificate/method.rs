//! The table that turns a sanitization technique on a media type into its NIST SP 800-88
//! category (templates/sanitization-methods.yaml, compiled in; a file can replace it).

use std::collections::BTreeMap;

const DEFAULT: &str = include_str!("../../templates/sanitization-methods.yaml");

/// `technique/media` → category.
#[derive(Debug, Clone)]
pub struct Table(BTreeMap<String, String>);

impl Table {
    pub fn default_table() -> Table {
        Table::parse(DEFAULT).expect("the shipped table parses")
    }

    pub fn parse(text: &str) -> Result<Table, String> {
        let map: BTreeMap<String, String> = crate::controls::schema::parse(text).map_err(|e| format!("line {}:{}: {}", e.line, e.column, e.message))?;
        for (k, v) in &map {
            if !k.contains('/') {
                return Err(format!("key '{k}' must be technique/media"));
            }
            if !matches!(v.as_str(), "clear" | "purge" | "destroy" | "none") {
                return Err(format!("'{k}: {v}': the category must be clear, purge, destroy or none"));
            }
        }
        Ok(Table(map))
    }

    /// The category, most specific entry first; `none` when nothing matches.
    pub fn category(&self, technique: &str, media: &str) -> &str {
        self.0.get(&format!("{technique}/{media}")).or_else(|| self.0.get(&format!("{technique}/*"))).map_or("none", String::as_str)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn overwriting_flash_is_clear_never_purge() {
        let t = super::Table::default_table();
        assert_eq!(t.category("overwrite", "ssd"), "clear");
        assert_eq!(t.category("overwrite", "hdd"), "clear");
        assert_eq!(t.category("crypto_erase", "nvme"), "purge");
        assert_eq!(t.category("degauss", "ssd"), "none");
        assert_eq!(t.category("shred", "unknown"), "destroy");
    }

    /// nwipe's SANITIZE actions (block erase, crypto erase/scramble, sanitize overwrite) reach
    /// every physical block, flash included: Purge on every media type; a host overwrite of the
    /// same drive stays Clear.
    #[test]
    fn each_sanitize_technique_by_media() {
        let t = super::Table::default_table();
        for media in ["hdd", "ssd", "nvme", "usb", "unknown"] {
            for technique in ["block_erase", "crypto_erase", "sanitize"] {
                assert_eq!(t.category(technique, media), "purge", "{technique}/{media}");
            }
            assert_eq!(t.category("overwrite", media), "clear", "overwrite/{media}");
        }
    }
}
