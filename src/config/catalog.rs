//! The service catalogue: categories, items and bundles (一件事), read from
//! `services.toml` or from CSV files, and checked the same way whatever the source.
//!
//! Readers produce a [`RawCatalog`] whose every value keeps its location; [`check`]
//! turns it into the core's `ItemDef`s and `BundleDef`s, reporting each problem at the
//! file, line and key it came from.

use std::collections::HashSet;

use super::csv_catalog;
use super::hall::{CatalogSource, Seen};
use super::tree::{Field, Loc, Src, Tab};
use super::{
    Errs, MAX_BUNDLES, MAX_BUNDLE_ITEMS, MAX_CATEGORIES, MAX_ITEMS, MAX_ITEM_MINUTES, MAX_LIMIT_DAYS, MAX_MATERIALS,
    MAX_NAME_CHARS, MAX_TEXT_CHARS,
};
use crate::core::model::{BundleId, ServiceCode};
use crate::core::setup::{BundleDef, ItemDef, QueueDef};

/// The checked catalogue.
#[derive(Default)]
pub(super) struct Catalog {
    pub categories: Vec<String>,
    pub items: Vec<ItemDef>,
    pub bundles: Vec<BundleDef>,
}

/// One item as read; a field is `None` when it was missing or of the wrong type (already
/// reported).
pub(super) struct RawItem {
    pub code: Option<Field<String>>,
    pub name: Option<Field<String>>,
    pub category: Option<Field<String>>,
    pub department: Option<Field<String>>,
    pub queue: Option<Field<String>>,
    pub minutes: Option<Field<i64>>,
    pub materials: Option<Field<Vec<Field<String>>>>,
    /// `limit_days`, optional: 承诺办结时限 in working days (0: 即办).
    pub limit_days: Option<Field<i64>>,
}

pub(super) struct RawBundle {
    pub id: Option<Field<String>>,
    pub name: Option<Field<String>>,
    pub items: Option<Field<Vec<Field<String>>>>,
}

pub(super) struct RawCatalog {
    /// `None` when the source has no category list (CSV): categories are then taken from
    /// the items, in order of first use.
    pub categories: Option<Vec<Field<String>>>,
    pub items: Vec<RawItem>,
    pub bundles: Vec<RawBundle>,
}

/// Reads the catalogue `source` names (through `read`) and checks it against `queues`.
pub(super) fn load(
    source: &CatalogSource,
    read: &dyn Fn(&str) -> Result<String, String>,
    queues: &[QueueDef],
    errs: &mut Errs,
) -> Catalog {
    let fetch = |f: &Field<String>, errs: &mut Errs| match read(&f.value) {
        Ok(text) => Some(text),
        Err(msg) => {
            errs.push(f.loc.err(format!("{msg}; create the file or fix the path")));
            None
        }
    };
    let raw = match source {
        CatalogSource::Toml(path) => fetch(path, errs).and_then(|text| read_toml(&path.value, &text, errs)),
        CatalogSource::Csv { services, bundles, extra } => {
            let items = fetch(services, errs).map(|text| csv_catalog::read_items(&services.value, &text, errs));
            let bundle_list = match bundles {
                Some(b) => fetch(b, errs).map(|text| csv_catalog::read_bundles(&b.value, &text, errs)),
                None => Some(Vec::new()),
            };
            let csv = items.zip(bundle_list).map(|(items, bundles)| RawCatalog { categories: None, items, bundles });
            match extra {
                None => csv,
                Some(t) => {
                    let toml = fetch(t, errs).and_then(|text| read_toml(&t.value, &text, errs));
                    csv.zip(toml).map(|(csv, toml)| combine(csv, toml))
                }
            }
        }
    };
    let file_loc = match source {
        CatalogSource::Toml(path) | CatalogSource::Csv { services: path, .. } => {
            Loc { file: path.value.clone(), line: None, key: String::new() }
        }
    };
    raw.map_or_else(Catalog::default, |raw| check(raw, queues, &file_loc, errs))
}

/// The CSV's items and bundles followed by the TOML's. The TOML's `[[category]]` list, if
/// it has one, is the kiosk's order and must name every category the CSV uses too.
fn combine(csv: RawCatalog, toml: RawCatalog) -> RawCatalog {
    let categories = toml.categories.filter(|c| !c.is_empty());
    let items = csv.items.into_iter().chain(toml.items).collect();
    let bundles = csv.bundles.into_iter().chain(toml.bundles).collect();
    RawCatalog { categories, items, bundles }
}

/// Reads `services.toml`; `None` after a syntax error.
fn read_toml(file: &str, text: &str, errs: &mut Errs) -> Option<RawCatalog> {
    let src = Src::new(file, text);
    let root = match src.parse() {
        Ok(root) => root,
        Err(e) => {
            errs.push(e);
            return None;
        }
    };
    let mut top = Tab::root(&src, &root)?;
    let mut categories = Vec::new();
    for mut t in top.tables("category", errs) {
        if let Some(name) = t.req_str("name", errs) {
            categories.push(name);
        }
        t.finish(errs);
    }
    let mut items = Vec::new();
    for mut t in top.tables("item", errs) {
        items.push(RawItem {
            code: t.req_str("code", errs),
            name: t.req_str("name", errs),
            category: t.req_str("category", errs),
            department: t.req_str("department", errs),
            queue: t.req_str("queue", errs),
            minutes: t.req_int("minutes", errs),
            materials: t.req_str_list("materials", errs),
            limit_days: t.int("limit_days", errs),
        });
        t.finish(errs);
    }
    let mut bundles = Vec::new();
    for mut t in top.tables("bundle", errs) {
        bundles.push(RawBundle {
            id: t.req_str("id", errs),
            name: t.req_str("name", errs),
            items: t.req_str_list("items", errs),
        });
        t.finish(errs);
    }
    top.finish(errs);
    Some(RawCatalog { categories: Some(categories), items, bundles })
}

/// Checks a catalogue as read and builds the core's definitions.
fn check(raw: RawCatalog, queues: &[QueueDef], file: &Loc, errs: &mut Errs) -> Catalog {
    let mut out = Catalog::default();
    let limits = [("items", raw.items.len(), MAX_ITEMS), ("bundles", raw.bundles.len(), MAX_BUNDLES)];
    let mut over = false;
    for (what, n, max) in limits {
        if n > max {
            errs.push(file.err(format!("{n} {what}, more than the limit of {max}; split the hall or remove some")));
            over = true;
        }
    }
    if over {
        return out;
    }
    let declared = raw.categories.is_some();
    if let Some(cats) = raw.categories {
        out.categories = check_categories(cats, file, errs);
    }
    // Every code written, valid or not, so a bad item does not also make its bundles fail.
    let written: HashSet<&str> = raw.items.iter().filter_map(|i| i.code.as_ref().map(|c| c.value.as_str())).collect();
    let mut codes = Seen::new("item code");
    let mut names = Seen::new("item name");
    for item in &raw.items {
        let category = item.category.as_ref().and_then(|c| {
            let ok = if declared { out.categories.contains(&c.value) } else { text_ok(c, MAX_NAME_CHARS, errs) };
            if declared && !ok {
                errs.push(c.loc.err(format!("unknown category {:?}; declare it in a [[category]] table", c.value)));
            }
            ok.then(|| c.value.clone())
        });
        if let (false, Some(c)) = (declared, &category) {
            if !out.categories.contains(c) {
                out.categories.push(c.clone());
            }
        }
        if let (Some(def), Some(category)) = (check_item(item, queues, &mut codes, &mut names, errs), category) {
            out.items.push(ItemDef { category, ..def });
        }
    }
    if out.categories.len() > MAX_CATEGORIES {
        errs.push(
            file.err(format!(
                "{} categories, more than the limit of {MAX_CATEGORIES}; merge some",
                out.categories.len()
            )),
        );
    }
    let mut ids = Seen::new("bundle id");
    let mut bundle_names = Seen::new("bundle name");
    for b in &raw.bundles {
        if let Some(def) = check_bundle(b, &written, &mut ids, &mut bundle_names, errs) {
            out.bundles.push(def);
        }
    }
    out
}

fn check_categories(cats: Vec<Field<String>>, file: &Loc, errs: &mut Errs) -> Vec<String> {
    if cats.len() > MAX_CATEGORIES {
        errs.push(file.err(format!("{} categories, more than the limit of {MAX_CATEGORIES}; merge some", cats.len())));
        return Vec::new();
    }
    let mut seen = Seen::new("category");
    cats.into_iter()
        .filter(|c| text_ok(c, MAX_NAME_CHARS, errs) && seen.check(&c.value, &c.loc, errs))
        .map(|c| c.value)
        .collect()
}

/// Checks every field but the category (which depends on the source).
fn check_item(
    item: &RawItem,
    queues: &[QueueDef],
    codes: &mut Seen,
    names: &mut Seen,
    errs: &mut Errs,
) -> Option<ItemDef> {
    let code = item.code.as_ref().and_then(|c| match ServiceCode::parse(&c.value) {
        Ok(code) => codes.check(&c.value, &c.loc, errs).then_some(code),
        Err(e) => {
            errs.push(c.loc.err(format!("{e}; change it")));
            None
        }
    });
    let name = item.name.as_ref().filter(|n| text_ok(n, MAX_NAME_CHARS, errs) && names.check(&n.value, &n.loc, errs));
    let department = item.department.as_ref().filter(|d| text_ok(d, MAX_NAME_CHARS, errs));
    let queue = item.queue.as_ref().and_then(|q| {
        let found = queues.iter().find(|d| d.id.as_str() == q.value);
        if found.is_none() {
            errs.push(q.loc.err(format!("unknown queue {:?}; use a queue declared in hall.toml", q.value)));
        }
        found.map(|d| d.id)
    });
    let minutes = item.minutes.as_ref().and_then(|m| {
        let ok = (1..=MAX_ITEM_MINUTES).contains(&m.value);
        if !ok {
            errs.push(m.loc.err(format!("minutes is {}; use a value from 1 to {MAX_ITEM_MINUTES}", m.value)));
        }
        u32::try_from(m.value).ok().filter(|_| ok)
    });
    let materials = item.materials.as_ref().and_then(|list| {
        let n = list.value.len();
        if !(1..=MAX_MATERIALS).contains(&n) {
            errs.push(
                list.loc.err(format!("an item lists 1 to {MAX_MATERIALS} materials, not {n}; e.g. [\"身份证原件\"]")),
            );
            return None;
        }
        let good = list.value.iter().filter(|m| text_ok(m, MAX_TEXT_CHARS, errs)).count();
        (good == n).then(|| list.value.iter().map(|m| m.value.clone()).collect::<Vec<_>>())
    });
    let limit_days = match &item.limit_days {
        None => Some(None),
        Some(d) if (0..=MAX_LIMIT_DAYS).contains(&d.value) => Some(u32::try_from(d.value).ok()),
        Some(d) => {
            let v = d.value;
            errs.push(
                d.loc
                    .err(format!("limit_days is {v}; use working days from 0 (即办, on the spot) to {MAX_LIMIT_DAYS}")),
            );
            None
        }
    };
    Some(ItemDef {
        limit_days: limit_days?,
        code: code?,
        name: name?.value.clone(),
        category: String::new(),
        department: department?.value.clone(),
        queue: queue?,
        minutes: minutes?,
        materials: materials?,
    })
}

fn check_bundle(
    b: &RawBundle,
    written: &HashSet<&str>,
    ids: &mut Seen,
    names: &mut Seen,
    errs: &mut Errs,
) -> Option<BundleDef> {
    let id = b.id.as_ref().and_then(|f| match BundleId::parse(&f.value) {
        Ok(_) if written.contains(f.value.as_str()) => {
            errs.push(f.loc.err(format!("bundle id {:?} is also an item code; give the bundle its own id", f.value)));
            None
        }
        Ok(id) => ids.check(&f.value, &f.loc, errs).then_some(id),
        Err(e) => {
            errs.push(f.loc.err(format!("{e}; change it")));
            None
        }
    });
    let name = b.name.as_ref().filter(|n| text_ok(n, MAX_NAME_CHARS, errs) && names.check(&n.value, &n.loc, errs));
    let items = b.items.as_ref().and_then(|list| {
        let n = list.value.len();
        if !(2..=MAX_BUNDLE_ITEMS).contains(&n) {
            errs.push(
                list.loc.err(format!("a bundle chains 2 to {MAX_BUNDLE_ITEMS} item codes, not {n}; fix the list")),
            );
            return None;
        }
        let mut codes: Vec<ServiceCode> = Vec::with_capacity(n);
        let mut ok = true;
        for f in &list.value {
            let code = ServiceCode::parse(&f.value).ok().filter(|_| written.contains(f.value.as_str()));
            match code {
                Some(c) if codes.contains(&c) => {
                    errs.push(f.loc.err(format!("item {:?} listed twice; list it once", f.value)));
                    ok = false;
                }
                Some(c) => codes.push(c),
                None => {
                    errs.push(f.loc.err(format!("unknown item {:?}; use a code declared as an item", f.value)));
                    ok = false;
                }
            }
        }
        ok.then_some(codes)
    });
    Some(BundleDef { id: id?, name: name?.value.clone(), items: items? })
}

/// A non-empty text of at most `max` characters; reports otherwise.
fn text_ok(f: &Field<String>, max: usize, errs: &mut Errs) -> bool {
    if f.value.trim().is_empty() {
        errs.push(f.loc.err("empty text; write something here"));
        false
    } else if f.value.chars().count() > max {
        errs.push(f.loc.err(format!("longer than {max} characters; shorten it")));
        false
    } else {
        true
    }
}

/// `[catalog]`: which files hold the catalogue (a TOML file, or CSV files).
pub(super) fn read_source(mut cat: Tab<'_>, errs: &mut Errs) -> Option<CatalogSource> {
    let toml_file = cat.str("services", errs);
    let csv_file = cat.str("services_csv", errs);
    let bundles = cat.str("bundles_csv", errs);
    let loc = cat.loc();
    cat.finish(errs);
    match (toml_file, csv_file, bundles) {
        (t, Some(csv), b) => Some(CatalogSource::Csv { services: csv, bundles: b, extra: t }),
        (Some(t), None, Some(b)) => {
            errs.push(b.loc.err(format!("bundles_csv goes with services_csv; put bundles in {} instead", t.value)));
            None
        }
        (Some(t), None, None) => Some(CatalogSource::Toml(t)),
        (None, None, _) => {
            errs.push(
                loc.err("[catalog] names no catalogue; set services = \"services.toml\" or services_csv = \"...\""),
            );
            None
        }
    }
}
