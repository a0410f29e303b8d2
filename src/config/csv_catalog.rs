//! Reading a CSV service catalogue in the shape of `shared/data/services.csv`
//! (`code,name,category,department,queue,minutes,materials`, materials joined by `；`) and
//! `bundles.csv` (`id,name,items`, items joined by `|`).
//!
//! A hall with hundreds of items keeps them in a spreadsheet; this turns its rows into the
//! same raw form `services.toml` gives, so both are checked by one set of rules. Errors
//! name the file, the row's line and the column.

use super::catalog::{RawBundle, RawItem};
use super::tree::{Field, Loc};
use super::{ConfigError, Errs};

/// Separates materials inside one cell: the full-width semicolon used in Chinese text.
pub const MATERIAL_SEPARATOR: char = '；';
/// Separates item codes inside one bundle cell.
pub const BUNDLE_ITEM_SEPARATOR: char = '|';

const ITEM_COLUMNS: [&str; 7] = ["code", "name", "category", "department", "queue", "minutes", "materials"];
/// The optional eighth column: 承诺办结时限 in working days, an empty cell for none.
const LIMIT_COLUMN: &str = "limit_days";
const BUNDLE_COLUMNS: [&str; 3] = ["id", "name", "items"];

/// The rows of a CSV file with the columns `wanted`, each cell with its location.
pub(super) fn rows<const N: usize>(
    file: &str,
    text: &str,
    wanted: [&str; N],
    errs: &mut Errs,
) -> Vec<[Field<String>; N]> {
    let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let file_err = |line: Option<u64>, key: &str, message: String| ConfigError {
        file: file.to_string(),
        line: line.and_then(|l| usize::try_from(l).ok()),
        key: key.to_string(),
        message,
    };
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|s| s.trim().to_string()).collect(),
        Err(e) => {
            errs.push(file_err(Some(1), "", format!("unreadable CSV header ({e}); fix the first line")));
            return Vec::new();
        }
    };
    let mut index = [0usize; N];
    let mut missing = Vec::new();
    for (slot, name) in index.iter_mut().zip(wanted) {
        match header.iter().position(|h| h == name) {
            Some(i) => *slot = i,
            None => missing.push(name),
        }
    }
    if !missing.is_empty() {
        let message = format!("missing column(s) {}; the header must name {}", missing.join(", "), wanted.join(","));
        errs.push(file_err(Some(1), "", message));
        return Vec::new();
    }
    let mut out = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line());
                errs.push(file_err(line, "", format!("unreadable CSV row ({e}); fix the row")));
                continue;
            }
        };
        let line = record.position().and_then(|p| usize::try_from(p.line()).ok());
        let cells = std::array::from_fn(|k| Field {
            value: record.get(index[k]).unwrap_or("").trim().to_string(),
            loc: Loc { file: file.to_string(), line, key: wanted[k].to_string() },
        });
        out.push(cells);
    }
    out
}

/// Splits one cell into a list, each part keeping the cell's location.
fn split(cell: Field<String>, sep: char) -> Field<Vec<Field<String>>> {
    let parts = if cell.value.is_empty() {
        Vec::new()
    } else {
        cell.value.split(sep).map(|p| Field { value: p.trim().to_string(), loc: cell.loc.clone() }).collect()
    };
    Field { value: parts, loc: cell.loc }
}

pub(super) fn read_items(file: &str, text: &str, errs: &mut Errs) -> Vec<RawItem> {
    // The limit column is optional: a spreadsheet without it reads as before.
    let header = text.lines().next().unwrap_or_default();
    if !header.split(',').any(|h| h.trim().trim_matches('"') == LIMIT_COLUMN) {
        return rows(file, text, ITEM_COLUMNS, errs).into_iter().map(|cells| raw_item(cells, None, errs)).collect();
    }
    let mut wanted = [LIMIT_COLUMN; 8];
    wanted[..7].copy_from_slice(&ITEM_COLUMNS);
    rows(file, text, wanted, errs)
        .into_iter()
        .map(|[code, name, category, department, queue, minutes, materials, limit]| {
            let limit = whole(limit, "limit_days", "write working days, e.g. 5, 0 for 即办, or leave it empty", errs);
            raw_item([code, name, category, department, queue, minutes, materials], limit, errs)
        })
        .collect()
}

/// A cell holding a whole number; an empty cell is `None`.
/// A bad cell is reported and stands as "none stated": the load fails anyway.
fn whole(cell: Field<String>, what: &str, hint: &str, errs: &mut Errs) -> Option<Field<i64>> {
    if cell.value.is_empty() {
        return None;
    }
    match cell.value.parse::<i64>() {
        Ok(n) => Some(Field { value: n, loc: cell.loc }),
        Err(_) => {
            errs.push(cell.loc.err(format!("{what} {:?} is not a whole number; {hint}", cell.value)));
            None
        }
    }
}

fn raw_item(cells: [Field<String>; 7], limit: Option<Field<i64>>, errs: &mut Errs) -> RawItem {
    let [code, name, category, department, queue, minutes, materials] = cells;
    let minutes = match minutes.value.parse::<i64>() {
        Ok(n) => Some(Field { value: n, loc: minutes.loc }),
        Err(_) => {
            errs.push(minutes.loc.err(format!("minutes {:?} is not a whole number; write e.g. 10", minutes.value)));
            None
        }
    };
    RawItem {
        code: Some(code),
        name: Some(name),
        category: Some(category),
        department: Some(department),
        queue: Some(queue),
        minutes,
        materials: Some(split(materials, MATERIAL_SEPARATOR)),
        limit_days: limit,
    }
}

pub(super) fn read_bundles(file: &str, text: &str, errs: &mut Errs) -> Vec<RawBundle> {
    rows(file, text, BUNDLE_COLUMNS, errs)
        .into_iter()
        .map(|[id, name, items]| RawBundle {
            id: Some(id),
            name: Some(name),
            items: Some(split(items, BUNDLE_ITEM_SEPARATOR)),
        })
        .collect()
}
