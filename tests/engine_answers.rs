//! A caller reads a command's answer as the kind the command gets (`core::answer`): read as
//! another kind, the engine refuses it before deciding anything. Against a real engine on
//! a real sled log.

use std::sync::Arc;

use hallq::core::model::{TicketId, Ts, UserName, WindowId, WindowState};
use hallq::core::{answer, Command, Envelope, Event, HallState};
use hallq::engine::{Engine, EngineError};
use hallq::feed::Feed;
use hallq::metrics::Metrics;
use hallq::store::Store;
use hallq::time::Clock;

use crate::support::shanghai_ms;

#[tokio::test]
async fn an_answer_read_as_another_kind_is_refused_before_anything_is_decided() {
    let data = tempfile::tempdir().expect("a temp dir");
    let config = hallq::config::embedded_default().expect("the example hall loads");
    let store = Arc::new(Store::open(data.path()).expect("the log opens"));
    let state = HallState::new(Arc::new(config.setup.clone()));
    let feed = Arc::new(Feed::new(&state));
    let metrics = Arc::new(Metrics::new().expect("metrics"));
    let now = shanghai_ms(2026, 3, 10, 9, 0, 0);
    let clock: Clock = Arc::new(move || Ts(now));
    let (engine, task) = Engine::new(state, store.clone(), feed, metrics, clock).spawn();

    let window = WindowId::parse("3").expect("a window id");
    let clerk = UserName::parse("clerk3").expect("a user name");
    let open = Envelope { command: Command::OpenWindow { window, clerk: clerk.clone() }, idempotency_key: None };
    // The engine's own tick may open the day meanwhile: what matters is that no window
    // was opened.
    let opened_in_log = |store: &Store| {
        let records = store.records_after(0).filter_map(Result::ok);
        records.filter(|(_, r)| matches!(r.event, Event::WindowOpened { .. })).count()
    };

    // Opening a window answers with the window: read as a ticket, it is refused, and the
    // window stays closed with nothing written.
    let misread = engine.command_for::<answer::Ticket, _>(open.clone(), |r, id: TicketId| r.known_ticket(&id)).await;
    let Err(EngineError::WrongAnswer { answers, read }) = misread else {
        panic!("a window's answer read as a ticket was not refused: {misread:?}")
    };
    assert_eq!((answers, read), (hallq::core::ReplyKind::Window, hallq::core::ReplyKind::Ticket));
    let state = engine.try_read(move |r| r.known_window(&window).map(|w| w.window.state)).await;
    assert_eq!(state.expect("window 3"), WindowState::Closed, "a refused misread opened the window");
    assert_eq!(opened_in_log(&store), 0, "a refused misread logged an opening");

    // Read as what it answers, the same command opens the window and names it.
    let opened = engine.command_for::<answer::Window, _>(open, |r, id| r.known_window(&id)).await;
    let opened = opened.expect("the window opens");
    assert_eq!((opened.value.window.id, opened.value.window.state), (window, WindowState::Open));
    assert_eq!(opened_in_log(&store), 1, "opening the window was not logged once");

    // A call answers with the ticket called, or none: nobody waits here.
    let next = Envelope { command: Command::CallNext { window, clerk }, idempotency_key: None };
    let called = engine.command_for::<answer::Call, _>(next, |_, id| Ok(id)).await.expect("a call");
    assert_eq!(called.value, None, "a call with nobody waiting named a ticket");

    drop(engine);
    assert!(task.stop().await, "the engine did not stop cleanly");
}
