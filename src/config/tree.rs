//! Reading TOML while keeping every value's line, so that each configuration error can
//! name file, line and key.
//!
//! A file is parsed into a tree of [`Node`]s, each wrapped in `toml::Spanned`; a [`Tab`]
//! walks one table of it, turns values into Rust types and records what is wrong (a
//! missing key, a wrong type, a key nobody reads) instead of stopping at the first fault.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use toml::Spanned;

use super::{ConfigError, Errs};

/// The key toml uses to smuggle a date-time through serde's data model.
const TOML_DATETIME_KEY: &str = "$__toml_private_datetime";

/// One TOML value with the spans of everything inside it.
#[derive(Debug)]
pub(super) enum Node {
    Str(String),
    Int(i64),
    // Nothing in a hall's configuration is a float, boolean or date-time: these are only
    // told apart to say what was found instead.
    Float,
    Bool,
    Datetime,
    Array(Vec<Spanned<Node>>),
    Table(Vec<(String, Spanned<Node>)>),
}

impl Node {
    fn type_name(&self) -> &'static str {
        match self {
            Node::Str(_) => "a string",
            Node::Int(_) => "an integer",
            Node::Float => "a float",
            Node::Bool => "a boolean",
            Node::Datetime => "a date-time",
            Node::Array(_) => "an array",
            Node::Table(_) => "a table",
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a TOML value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        i64::try_from(v).map(Node::Int).map_err(|_| E::custom("integer too large"))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Node, E> {
        Ok(Node::Float)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Node, E> {
        Ok(Node::Bool)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element::<Spanned<Node>>()? {
            out.push(v);
        }
        Ok(Node::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut out = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if key == TOML_DATETIME_KEY {
                map.next_value::<String>()?;
                return Ok(Node::Datetime);
            }
            out.push((key, map.next_value::<Spanned<Node>>()?));
        }
        Ok(Node::Table(out))
    }
}

/// A file's name and text, for turning byte offsets into lines.
pub(super) struct Src<'a> {
    pub file: &'a str,
    pub text: &'a str,
    /// Byte offsets of every newline, so that finding a line is a binary search rather
    /// than a scan of the file (a scan per value made a 1,000-item catalogue quadratic).
    newlines: Vec<usize>,
}

impl<'a> Src<'a> {
    pub fn new(file: &'a str, text: &'a str) -> Self {
        let newlines = text.bytes().enumerate().filter(|&(_, b)| b == b'\n').map(|(i, _)| i).collect();
        Self { file, text, newlines }
    }

    pub fn line_of(&self, offset: usize) -> usize {
        self.newlines.partition_point(|&nl| nl < offset) + 1
    }

    /// Parses the whole file; a syntax error becomes one `ConfigError`.
    pub fn parse(&self) -> Result<Spanned<Node>, ConfigError> {
        toml::from_str::<Spanned<Node>>(self.text).map_err(|e| {
            // toml cannot give spans for a table it made up: `[a.b]` with no `[a]` above
            // is valid TOML, but fails here with a message about serde's internals.
            if let Some((line, header, parent)) = implicit_parent(self.text) {
                if toml::from_str::<toml::Table>(self.text).is_ok() {
                    return ConfigError {
                        file: self.file.to_string(),
                        line: Some(line),
                        key: header.clone(),
                        message: format!(
                            "write a [{parent}] line above [{header}]: a table's parent must be written out"
                        ),
                    };
                }
            }
            ConfigError {
                file: self.file.to_string(),
                line: e.span().map(|s| self.line_of(s.start)),
                key: String::new(),
                message: format!("invalid TOML: {}; fix the syntax", one_line(e.message())),
            }
        })
    }
}

/// The first table header `[a.b]` (or `[[a.b]]`) whose parent `a` is not a header above
/// it: its line, its name and the parent's name.
fn implicit_parent(text: &str) -> Option<(usize, String, String)> {
    let mut seen = std::collections::HashSet::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        let header = match t.strip_prefix("[[") {
            Some(rest) => rest.split("]]").next(),
            None => t.strip_prefix('[').and_then(|rest| rest.split(']').next()),
        };
        let Some(header) = header.map(|h| h.split('.').map(str::trim).collect::<Vec<_>>().join(".")) else {
            continue;
        };
        if let Some((parent, _)) = header.rsplit_once('.') {
            if !seen.contains(parent) {
                return Some((i + 1, header.clone(), parent.to_string()));
            }
        }
        seen.insert(header);
    }
    None
}

/// toml's messages may span lines; an error must stay on one.
fn one_line(message: &str) -> String {
    message.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(": ")
}

/// Where a value was found: file, 1-based line, and its dotted key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Loc {
    pub file: String,
    pub line: Option<usize>,
    pub key: String,
}

impl Loc {
    pub fn err(&self, message: impl Into<String>) -> ConfigError {
        ConfigError { file: self.file.clone(), line: self.line, key: self.key.clone(), message: message.into() }
    }
}

/// A value with where it came from.
#[derive(Clone, Debug)]
pub(super) struct Field<T> {
    pub value: T,
    pub loc: Loc,
}

/// One table being read; remembers which keys were read so that the rest can be reported
/// as unknown.
pub(super) struct Tab<'a> {
    src: &'a Src<'a>,
    path: String,
    line: Option<usize>,
    entries: &'a [(String, Spanned<Node>)],
    used: Vec<bool>,
}

impl<'a> Tab<'a> {
    /// The file's top level; `None` (with an error) if the root is somehow not a table.
    pub fn root(src: &'a Src<'a>, node: &'a Spanned<Node>) -> Option<Tab<'a>> {
        match node.get_ref() {
            Node::Table(entries) => {
                Some(Tab { src, path: String::new(), line: None, entries, used: vec![false; entries.len()] })
            }
            _ => None,
        }
    }

    pub fn loc(&self) -> Loc {
        Loc { file: self.src.file.to_string(), line: self.line, key: self.path.clone() }
    }

    fn key_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    fn loc_at(&self, key: String, node: &Spanned<Node>) -> Loc {
        Loc { file: self.src.file.to_string(), line: Some(self.src.line_of(node.span().start)), key }
    }

    fn get(&mut self, key: &str) -> Option<&'a Spanned<Node>> {
        let i = self.entries.iter().position(|(k, _)| k == key)?;
        self.used[i] = true;
        Some(&self.entries[i].1)
    }

    fn wrong_type(&self, errs: &mut Errs, loc: &Loc, want: &str, got: &Node) {
        errs.push(loc.err(format!("expected {want}, found {}; write {want} here", got.type_name())));
    }

    fn missing(&self, errs: &mut Errs, key: &str, want: &str) {
        let mut loc = self.loc();
        loc.key = self.key_path(key);
        let table = if self.path.is_empty() { "the file".to_string() } else { format!("[{}]", self.path) };
        errs.push(loc.err(format!("missing key; add `{key} = {want}` to {table}")));
    }

    /// An optional string.
    pub fn str(&mut self, key: &str, errs: &mut Errs) -> Option<Field<String>> {
        let node = self.get(key)?;
        let loc = self.loc_at(self.key_path(key), node);
        match node.get_ref() {
            Node::Str(s) => Some(Field { value: s.clone(), loc }),
            other => {
                self.wrong_type(errs, &loc, "a string", other);
                None
            }
        }
    }

    /// A string that must be there.
    pub fn req_str(&mut self, key: &str, errs: &mut Errs) -> Option<Field<String>> {
        if self.entries.iter().all(|(k, _)| k != key) {
            self.missing(errs, key, "\"...\"");
            return None;
        }
        self.str(key, errs)
    }

    /// An optional integer.
    pub fn int(&mut self, key: &str, errs: &mut Errs) -> Option<Field<i64>> {
        let node = self.get(key)?;
        let loc = self.loc_at(self.key_path(key), node);
        match node.get_ref() {
            Node::Int(n) => Some(Field { value: *n, loc }),
            other => {
                self.wrong_type(errs, &loc, "an integer", other);
                None
            }
        }
    }

    /// An integer that must be there.
    pub fn req_int(&mut self, key: &str, errs: &mut Errs) -> Option<Field<i64>> {
        if self.entries.iter().all(|(k, _)| k != key) {
            self.missing(errs, key, "1");
            return None;
        }
        self.int(key, errs)
    }

    /// An optional list of strings; each element keeps its own line.
    pub fn str_list(&mut self, key: &str, errs: &mut Errs) -> Option<Field<Vec<Field<String>>>> {
        let node = self.get(key)?;
        let loc = self.loc_at(self.key_path(key), node);
        let Node::Array(elems) = node.get_ref() else {
            self.wrong_type(errs, &loc, "an array of strings", node.get_ref());
            return None;
        };
        let mut out = Vec::with_capacity(elems.len());
        for elem in elems {
            let eloc = self.loc_at(loc.key.clone(), elem);
            match elem.get_ref() {
                Node::Str(s) => out.push(Field { value: s.clone(), loc: eloc }),
                other => self.wrong_type(errs, &eloc, "a string", other),
            }
        }
        Some(Field { value: out, loc })
    }

    /// A list of strings that must be there.
    pub fn req_str_list(&mut self, key: &str, errs: &mut Errs) -> Option<Field<Vec<Field<String>>>> {
        if self.entries.iter().all(|(k, _)| k != key) {
            self.missing(errs, key, "[\"...\"]");
            return None;
        }
        self.str_list(key, errs)
    }

    /// An optional sub-table such as `[hall.calls]`.
    pub fn table(&mut self, key: &str, errs: &mut Errs) -> Option<Tab<'a>> {
        let node = self.get(key)?;
        let path = self.key_path(key);
        let loc = self.loc_at(path.clone(), node);
        match node.get_ref() {
            Node::Table(entries) => {
                Some(Tab { src: self.src, path, line: loc.line, entries, used: vec![false; entries.len()] })
            }
            other => {
                self.wrong_type(errs, &loc, "a table", other);
                None
            }
        }
    }

    /// An array of tables such as `[[window]]`; empty when absent. The tables are named
    /// `key[0]`, `key[1]`, ... in errors.
    pub fn tables(&mut self, key: &str, errs: &mut Errs) -> Vec<Tab<'a>> {
        let Some(node) = self.get(key) else { return Vec::new() };
        let path = self.key_path(key);
        let Node::Array(elems) = node.get_ref() else {
            let loc = self.loc_at(path, node);
            self.wrong_type(errs, &loc, &format!("an array of tables ([[{key}]])"), node.get_ref());
            return Vec::new();
        };
        let mut out = Vec::with_capacity(elems.len());
        for (i, elem) in elems.iter().enumerate() {
            let epath = format!("{path}[{i}]");
            match elem.get_ref() {
                Node::Table(entries) => out.push(Tab {
                    src: self.src,
                    path: epath,
                    line: Some(self.src.line_of(elem.span().start)),
                    entries,
                    used: vec![false; entries.len()],
                }),
                other => {
                    let loc = self.loc_at(epath, elem);
                    self.wrong_type(errs, &loc, "a table", other);
                }
            }
        }
        out
    }

    /// The table's keys, in the order written (for tables whose keys are data, such as a
    /// window's preferences).
    pub fn keys(&self) -> Vec<String> {
        self.entries.iter().map(|(k, _)| k.clone()).collect()
    }

    /// Reports every key that was not read: a typo must not be silently ignored.
    pub fn finish(self, errs: &mut Errs) {
        for ((key, node), used) in self.entries.iter().zip(&self.used) {
            if !used {
                let loc = self.loc_at(self.key_path(key), node);
                errs.push(loc.err(format!("unknown key {key:?}; remove it or check its spelling")));
            }
        }
    }
}
