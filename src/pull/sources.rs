//! What each source's list API looks like: the first request (with the fields the controls
//! need asked for by name), how a page says how many items it holds, what total the source
//! claims, and where the next page is.

use super::{Error, Kind};
use serde_json::Value;

/// Microsoft Graph `managedDevice` properties the Intune reader reads, encryption included.
const GRAPH_SELECT: &str = "id,deviceName,managedDeviceName,serialNumber,model,manufacturer,operatingSystem,osVersion,deviceType,\
managementAgent,managementState,managedDeviceOwnerType,deviceEnrollmentType,deviceRegistrationState,complianceState,isSupervised,\
isEncrypted,jailBroken,joinType,lastSyncDateTime,enrolledDateTime,azureADDeviceId,userPrincipalName,emailAddress";

/// Jamf Pro inventory sections the Jamf reader reads.
const JAMF_SECTIONS: &[&str] = &["GENERAL", "HARDWARE", "USER_AND_LOCATION", "OPERATING_SYSTEM", "DISK_ENCRYPTION", "SECURITY", "STORAGE"];

/// Where one source's list is, and how it pages.
#[derive(Debug, Clone)]
pub struct Plan {
    pub kind: Kind,
    /// The API's base URL, without a trailing slash.
    pub base: String,
    pub page_size: u64,
    /// Google: the customer (`my_customer`, or the customer id); Cloud Identity with `api = devices`.
    pub customer: String,
    /// Google: `chromeos` (Admin SDK) or `devices` (Cloud Identity).
    pub google_api: String,
}

/// What one page says about the list.
#[derive(Debug)]
pub struct PageInfo {
    pub items: u64,
    /// The total the page claims for the whole list (`totalCount`, `total`, `@odata.count`).
    pub total: Option<u64>,
    pub next: Option<String>,
}

/// Largest page each API serves (Kandji refuses more than 300).
pub fn max_page_size(kind: Kind) -> u64 {
    match kind {
        Kind::Kandji => 300,
        Kind::Google => 200,
        Kind::Jamf => 2000,
        Kind::Intune => 1000,
        Kind::Fleet | Kind::Snipeit => 500,
    }
}

impl Plan {
    /// The request for the first page.
    pub fn first(&self) -> String {
        self.page_url(0, None)
    }

    /// Where the source states its total apart from the pages (Fleet's count endpoint).
    pub fn count_url(&self) -> Option<String> {
        matches!(self.kind, Kind::Fleet).then(|| format!("{}/api/v1/fleet/hosts/count", self.base))
    }

    fn page_url(&self, n: u64, token: Option<&str>) -> String {
        let (b, s) = (&self.base, self.page_size);
        match self.kind {
            Kind::Intune => format!("{b}/deviceManagement/managedDevices?$select={GRAPH_SELECT}&$top={s}"),
            Kind::Jamf => {
                let sections: String = JAMF_SECTIONS.iter().map(|x| format!("section={x}&")).collect();
                format!("{b}/api/v1/computers-inventory?{sections}page={n}&page-size={s}&sort=id%3Aasc")
            }
            Kind::Kandji => format!("{b}/api/v1/devices?limit={s}&offset={}", n * s),
            Kind::Fleet => format!("{b}/api/v1/fleet/hosts?page={n}&per_page={s}&order_key=id&order_direction=asc"),
            Kind::Snipeit => format!("{b}/api/v1/hardware?limit={s}&offset={}&sort=id&order=asc", n * s),
            Kind::Google => {
                let tok = token.map(|t| format!("&pageToken={}", query_escape(t))).unwrap_or_default();
                if self.google_api == "devices" {
                    format!("{b}/v1/devices?customer={}&pageSize={s}{tok}", query_escape(&self.customer))
                } else {
                    format!(
                        "{b}/admin/directory/v1/customer/{}/devices/chromeos?maxResults={s}&projection=FULL&orderBy=serialNumber{tok}",
                        query_escape(&self.customer)
                    )
                }
            }
        }
    }

    /// Reads page `n` (from 0), fetched from `url`, having fetched `so_far` items before it.
    pub fn read(&self, body: &[u8], n: u64, so_far: u64) -> Result<PageInfo, String> {
        let top: Skim = serde_json::from_slice(body).map_err(|e| format!("the body is not JSON ({e}); a cut-off transfer or an error page"))?;
        let get = |key: &str| match &top {
            Skim::Map(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        };
        let array = |key: &str| match get(key) {
            Some(Skim::Array(n)) => Ok(*n),
            _ => Err(format!("the page has no \"{key}\" array")),
        };
        let number = |key: &str| match get(key) {
            Some(Skim::Number(n)) => Some(*n),
            _ => None,
        };
        let (items, total) = match self.kind {
            Kind::Intune => (array("value")?, number("@odata.count")),
            Kind::Jamf => (array("results")?, Some(number("totalCount").ok_or("the page has no totalCount")?)),
            Kind::Snipeit => (array("rows")?, Some(number("total").ok_or("the page has no total")?)),
            Kind::Kandji => match top {
                Skim::Array(n) => (n, None),
                _ => return Err("the page is not a JSON array of devices".into()),
            },
            Kind::Fleet => (array("hosts")?, None),
            // An empty page has no array at all.
            Kind::Google => {
                let key = if self.google_api == "devices" { "devices" } else { "chromeosdevices" };
                (if get(key).is_some() { array(key)? } else { 0 }, None)
            }
        };
        let seen = so_far + items;
        let next = match self.kind {
            Kind::Intune => match get("@odata.nextLink") {
                None | Some(Skim::Null) => None,
                Some(Skim::Text(u)) => Some(self.same_origin(u)?),
                Some(_) => return Err("@odata.nextLink is not a string".into()),
            },
            Kind::Google => match get("nextPageToken") {
                None | Some(Skim::Null) => None,
                Some(Skim::Text(t)) if t.is_empty() => None,
                Some(Skim::Text(t)) => Some(self.page_url(n + 1, Some(t))),
                Some(_) => return Err("nextPageToken is not a string".into()),
            },
            // Paged by count: a short page is the last; with a total, reaching it is the end.
            Kind::Jamf | Kind::Snipeit => (items > 0 && total.is_some_and(|t| seen < t)).then(|| self.page_url(n + 1, None)),
            Kind::Kandji | Kind::Fleet => (items == self.page_size).then(|| self.page_url(n + 1, None)),
        };
        Ok(PageInfo { items, total, next })
    }

    /// A next-page link must stay on the API's own server: the token goes with it.
    fn same_origin(&self, url: &str) -> Result<String, String> {
        let origin = |u: &str| {
            u.split_once("://").map(|(s, r)| format!("{}://{}", s.to_ascii_lowercase(), r.split('/').next().unwrap_or_default().to_ascii_lowercase()))
        };
        if origin(url).is_some() && origin(url) == origin(&self.base) {
            Ok(url.to_string())
        } else {
            Err(format!("the next-page link points to another server ({}); the token is not sent there", super::http::redact(url)))
        }
    }
}

/// The count a Fleet count endpoint states.
pub fn read_count(body: &[u8]) -> Result<u64, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("the count is not JSON ({e})"))?;
    v.get("count").and_then(Value::as_u64).ok_or_else(|| "the reply has no count".into())
}

/// A page read for its paging alone: the top level's keys with their strings and numbers, and
/// each array as its length. The records themselves are skipped, not built (a page can be tens of
/// megabytes; the reader parses its records one at a time).
enum Skim {
    Map(Vec<(String, Skim)>),
    Array(u64),
    Text(String),
    Number(u64),
    Null,
    Other,
}

impl<'de> serde::Deserialize<'de> for Skim {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Skim, D::Error> {
        d.deserialize_any(SkimVisitor)
    }
}

struct SkimVisitor;

impl<'de> serde::de::Visitor<'de> for SkimVisitor {
    type Value = Skim;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("JSON")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Skim, A::Error> {
        let mut out = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, Skim>()? {
            out.push((k, v));
        }
        Ok(Skim::Map(out))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Skim, A::Error> {
        let mut n = 0;
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
            n += 1;
        }
        Ok(Skim::Array(n))
    }
    fn visit_str<E>(self, v: &str) -> Result<Skim, E> {
        Ok(Skim::Text(v.to_string()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Skim, E> {
        Ok(Skim::Number(v))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Skim, E> {
        Ok(Skim::Other)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Skim, E> {
        Ok(Skim::Other)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Skim, E> {
        Ok(Skim::Other)
    }
    fn visit_unit<E>(self) -> Result<Skim, E> {
        Ok(Skim::Null)
    }
}

/// Percent-encodes a query value (page tokens, customer ids).
fn query_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Kind {
    /// The default base URL of the cloud services (the others are the customer's own server).
    pub fn default_base(self) -> Option<&'static str> {
        match self {
            Kind::Intune => Some("https://graph.microsoft.com/v1.0"),
            Kind::Google => Some("https://admin.googleapis.com"),
            _ => None,
        }
    }

    pub(super) fn bad_page(self, url: &str, page: u64, message: String) -> Error {
        Error::Page { source_name: self.as_str(), url: super::http::redact(url), page: page + 1, message }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(kind: Kind) -> Plan {
        Plan { kind, base: "https://api.example".into(), page_size: 3, customer: "my_customer".into(), google_api: "chromeos".into() }
    }

    #[test]
    fn paging_ends_where_each_api_says_and_links_stay_on_the_server() {
        let intune = plan(Kind::Intune);
        let other = br#"{"value":[{}],"@odata.nextLink":"https://evil.example/v1.0/deviceManagement/managedDevices?$skiptoken=x"}"#;
        assert!(intune.read(other, 0, 0).unwrap_err().contains("another server"));
        let same = br#"{"value":[{}],"@odata.nextLink":"https://API.example/v1.0/x?$skiptoken=2","@odata.count":9}"#;
        let p = intune.read(same, 0, 0).unwrap();
        assert_eq!((p.items, p.total, p.next.as_deref()), (1, Some(9), Some("https://API.example/v1.0/x?$skiptoken=2")));
        // Jamf: the total says when to stop; an empty page stops too (the sum is then checked).
        let jamf = plan(Kind::Jamf);
        assert!(jamf.read(br#"{"totalCount":7,"results":[{},{},{}]}"#, 1, 3).unwrap().next.unwrap().contains("page=2&"));
        assert!(jamf.read(br#"{"totalCount":7,"results":[{}]}"#, 2, 6).unwrap().next.is_none());
        assert!(jamf.read(br#"{"totalCount":9,"results":[]}"#, 3, 7).unwrap().next.is_none());
        assert!(jamf.read(br#"{"results":[]}"#, 0, 0).unwrap_err().contains("totalCount"));
        // Kandji and Fleet: a short page is the last.
        assert!(plan(Kind::Kandji).read(b"[{},{},{}]", 0, 0).unwrap().next.unwrap().ends_with("offset=3"));
        assert!(plan(Kind::Kandji).read(b"[{}]", 1, 3).unwrap().next.is_none());
        assert!(plan(Kind::Fleet).read(br#"{"hosts":[{},{}]}"#, 0, 0).unwrap().next.is_none());
        // Google: a token, percent-encoded, until there is none (an empty page has no array).
        let g = plan(Kind::Google).read(br#"{"chromeosdevices":[{}],"nextPageToken":"a b/c"}"#, 0, 0).unwrap();
        assert!(g.next.unwrap().ends_with("&pageToken=a%20b%2Fc"));
        assert_eq!(plan(Kind::Google).read(br#"{"kind":"admin#directory#chromeosdevices"}"#, 1, 1).unwrap().items, 0);
        assert!(plan(Kind::Snipeit).read(b"<html>login</html>", 0, 0).unwrap_err().contains("not JSON"));
        // Cloud Identity devices: its own endpoint, key and customer form.
        let ci = Plan { google_api: "devices".into(), customer: "customers/C01abc".into(), ..plan(Kind::Google) };
        assert_eq!(ci.first(), "https://api.example/v1/devices?customer=customers%2FC01abc&pageSize=3");
        let p = ci.read(br#"{"devices":[{},{}],"nextPageToken":"n2"}"#, 0, 0).unwrap();
        assert_eq!((p.items, p.next.unwrap().ends_with("&pageToken=n2")), (2, true));
        assert!(ci.read(br#"{"chromeosdevices":[{}]}"#, 0, 0).unwrap().items == 0, "another API's array is not this one's");
    }

    proptest::proptest! {
        /// Whatever a server sends, reading a page is an answer or an error, never a panic.
        #[test]
        fn any_body_is_read_or_refused(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200), k in 0usize..6) {
            let _ = plan(Kind::ALL[k]).read(&body, 0, 0);
            let _ = read_count(&body);
        }
    }
}
