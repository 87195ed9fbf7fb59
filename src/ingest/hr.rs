//! HR leaver list (CSV): who left and on which day. HR systems export this in many shapes, so
//! headers are matched by alias; a row must name the person (employee id, email or username)
//! and the termination date, which RET-01 measures the return of devices from.

use super::row::{RowCtx, RowResult, non_empty};
use super::table::{Row, Table};
use super::{Emitter, Error};
use crate::model::*;

const EMPLOYEE_ID: &[&str] =
    &["employee_id", "employee id", "employee number", "employee no", "employee #", "emp id", "worker id", "person number", "personnel number"];
const EMAIL: &[&str] = &["email", "work email", "work_email", "email address", "e-mail", "business email", "upn"];
const USERNAME: &[&str] = &["username", "user name", "login", "account", "user id", "userid"];
const NAME: &[&str] = &["name", "full name", "full_name", "employee name", "display name", "display_name", "legal name"];
const TERMINATION: &[&str] = &[
    "termination_date",
    "termination date",
    "last day",
    "last working day",
    "last day worked",
    "leave date",
    "leaving date",
    "end date",
    "separation date",
    "exit date",
    "date of leaving",
];

/// Columns that mark a leaver list.
pub const DETECT: &[&str] = &["termination_date", "termination date", "last working day", "separation date", "leaving date", "date of leaving", "exit date"];

/// A leaver must carry something a device's owner can be matched on.
pub(crate) fn named(ctx: &RowCtx, field: &str, ids: [&Option<String>; 3]) -> RowResult<()> {
    if ids.iter().all(|i| i.is_none()) {
        return Err(ctx.issue(field, "row names no employee id, email or username: the leaver cannot be matched to any device", None));
    }
    Ok(())
}

/// Reads the leaver list.
pub fn read(table: &Table, em: &mut Emitter) -> Result<(), Error> {
    let date_c = Some(table.require("termination_date", TERMINATION)?);
    let (id_c, email_c, user_c, name_c) = (table.col(EMPLOYEE_ID), table.col(EMAIL), table.col(USERNAME), table.col(NAME));
    if id_c.is_none() && email_c.is_none() && user_c.is_none() {
        table.require("email", EMAIL)?;
    }
    let used = [date_c, id_c, email_c, user_c, name_c];
    for w in table.header_warnings() {
        em.warning(w)?;
    }
    let date_fmt = em.opts.date_format.clone();
    let h = |c: Option<usize>, d: &str| c.map(|c| table.headers[c].clone()).unwrap_or_else(|| d.to_string());
    let mut seen: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
    table.for_each_row(em, |row: &Row, ctx: &mut RowCtx| {
        let (id, email, user) = (non_empty(row.get(id_c)), non_empty(row.get(email_c)), non_empty(row.get(user_c)));
        if let Some(i) = &id {
            ctx.identifier(&h(id_c, ""), i)?;
        }
        named(ctx, &h(email_c.or(id_c).or(user_c), "email"), [&id, &email, &user])?;
        if let Some(e) = &email
            && !e.contains('@')
        {
            return Err(ctx.issue(&h(email_c, "email"), "not an email address", Some(e)));
        }
        let field = h(date_c, "termination_date");
        let raw = row.get(date_c);
        ctx.unambiguous_date(&field, raw, date_fmt.as_deref())?;
        let mut formats = vec!["%Y-%m-%d"];
        if let Some(f) = &date_fmt {
            formats.insert(0, f.as_str());
        }
        // HR tools often append a midnight time to a date column.
        let day = raw.trim().split(['T', ' ']).next().unwrap_or("");
        let date = if date_fmt.is_some() { ctx.date(&field, raw, &formats)? } else { ctx.date(&field, day, &formats)? };
        let Some(termination_date) = date else {
            return Err(ctx.issue(&field, "termination date is required: without it the return of devices cannot be measured", None));
        };
        let shown = id.as_deref().or(email.as_deref()).or(user.as_deref()).unwrap_or("");
        let ident = shown.to_lowercase();
        match seen.get(&ident) {
            // Counted once by RET-01 (the population is people); both rows are stored.
            Some(first) => ctx.warn(&h(id_c.or(email_c).or(user_c), "email"), format!("leaver also on line {first} of this list: counted once"), Some(shown)),
            None => {
                seen.insert(ident, ctx.line);
            }
        }
        Ok(vec![Record::Leaver(Leaver {
            prov: ctx.prov(id.clone()),
            employee_id: id,
            email: email.map(|e| e.to_lowercase()),
            username: user,
            display_name: non_empty(row.get(name_c)),
            termination_date,
            extra: table.extra(row, &used),
        })])
    })
}
