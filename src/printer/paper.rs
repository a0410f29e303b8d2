//! A ticket's paper from the hall's own view of it: the ticket as the core keeps it, its
//! place in line, and the hall's setup for the words (queue, item, bundle and priority
//! names, the missed-number rule, the time of issue on the hall's clock).

use super::ticket::TicketPaper;
use crate::core::eta::{Eta, NO_OPEN_WINDOW};
use crate::core::model::{QueueId, ServiceCode, Ticket};
use crate::core::setup::Setup;
use crate::time::local_minute;

/// The paper of ticket `t` whose place in line is `eta` (none unless it waits), in the
/// words of `setup`; `url` is its status page for the QR code, and a reprint says so.
pub fn paper_of(setup: &Setup, t: &Ticket, eta: Option<Eta>, url: Option<String>, reprint: bool) -> TicketPaper {
    let mut services = Vec::new();
    if let Some(b) = t.bundle.as_ref().and_then(|b| setup.bundles.iter().find(|x| &x.id == b)) {
        services.push(format!("【一件事】{}", b.name));
    }
    services.extend(t.services.iter().map(|code| item_name(setup, code).to_string()));
    TicketPaper {
        hall: setup.hall_name.clone(),
        number: t.number.to_string(),
        queue: setup.queue(&t.queue).map_or_else(|| t.queue.to_string(), |q| q.name.clone()),
        priority: t
            .priority
            .as_ref()
            .map(|p| setup.priorities.iter().find(|x| &x.id == p).map_or_else(|| p.to_string(), |x| x.name.clone())),
        services,
        steps: t.steps.iter().map(|s| step_line(setup, &s.queue, &s.services)).collect(),
        rejoin_min: setup.dispatch.rejoin_min,
        materials: materials(setup, &t.services),
        limit: super::ticket::limit_words(
            t.services.iter().map(|code| setup.item(code.as_str()).and_then(|i| i.limit_days)),
        ),
        line: None,
        ahead: eta.map(|e| e.ahead),
        eta_minutes: eta.and_then(|e| e.minutes),
        no_window: eta.and_then(|e| e.reason()) == Some(NO_OPEN_WINDOW),
        issued: local_minute(setup, t.issued_at),
        url,
        reprint,
    }
}

/// An item's name, or its code when the hall no longer lists it.
fn item_name<'a>(setup: &'a Setup, code: &'a ServiceCode) -> &'a str {
    setup.item(code.as_str()).map_or(code.as_str(), |i| i.name.as_str())
}

/// A bundle's step as printed: `B 企业服务：企业设立登记、…`.
fn step_line(setup: &Setup, queue: &QueueId, services: &[ServiceCode]) -> String {
    let name = setup.queue(queue).map_or("", |q| q.name.as_str());
    let items: Vec<&str> = services.iter().map(|c| item_name(setup, c)).collect();
    format!("{queue} {name}：{}", items.join("、"))
}

/// The materials the items ask for, each once, in the items' order.
fn materials(setup: &Setup, services: &[ServiceCode]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in services.iter().filter_map(|code| setup.item(code.as_str())) {
        for m in &item.materials {
            if !out.contains(m) {
                out.push(m.clone());
            }
        }
    }
    out
}
