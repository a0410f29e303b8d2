//! What a ticket tells its visitor beyond its place in line (issue 17 §5): an enterprise
//! ticket's line, on the status page and the paper. The words are the paper's; the pages
//! word the same `kind` in their own language.

use serde::Serialize;

use crate::core::enterprise::Tagged;
use crate::core::model::{Ticket, WindowId};

/// The specialist's window while the ticket still waits for it by name: the tag says where
/// it was sent at issue, and a window that closed since sent it back to the queue.
fn personal(tag: &Tagged, t: &Ticket) -> Option<WindowId> {
    tag.window.filter(|w| t.target_window == Some(*w))
}

/// Where an enterprise's ticket was sent at issue. No enterprise or specialist is named:
/// the status page is open to whoever holds the link.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct EnterpriseLineDto {
    /// `personal`: its specialist's window calls it; `queue`: the enterprise queue.
    pub kind: &'static str,
    /// The specialist's window, for `personal`.
    pub window: Option<String>,
}

impl EnterpriseLineDto {
    pub fn new(tag: &Tagged, t: &Ticket) -> Self {
        match personal(tag, t) {
            Some(w) => EnterpriseLineDto { kind: "personal", window: Some(w.to_string()) },
            None => EnterpriseLineDto { kind: "queue", window: None },
        }
    }
}

/// The line in the paper's words: 专员窗口 10, or 企业服务区排队.
pub fn line_words(tag: &Tagged, t: &Ticket) -> String {
    match personal(tag, t) {
        Some(w) => format!("专员窗口 {w}（您的专属服务专员办理）"),
        None => "企业服务区排队（专员未在岗）".to_string(),
    }
}
