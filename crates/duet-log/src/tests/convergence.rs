//! The views are a fold of the log: any arrival order of the same events gives identical
//! views (`docs/architecture.md`, "The data model"). Arrival order is free across authors; each author's events arrive in
//! seq order, as sync and verification guarantee.

use duet_model::{MessageId, Target, Timestamp};
use proptest::prelude::*;

use crate::envelope::SealedEvent;
use crate::materialize::{fold, MemoryViews};
use crate::payload::{ChannelChange, Payload};
use crate::testkit::TestSpace;
use crate::verify::OpenedEvent;

/// One step of a scenario: which device acts and what it does. Message references are
/// indexes into the messages posted so far (modulo their count).
#[derive(Debug, Clone)]
enum Step {
    Post(u8),
    Edit(u8),
    Delete(u8),
    React(u8, u8),
    Unreact(u8, u8),
    Read(u8),
    Delivered,
    Settings(bool, bool),
    Channel(u8),
    Status(u8),
    Mood(u8),
    Nudge,
    Pin(u8, bool),
    Together(u8),
    Date(u8, bool),
    List(u8, bool),
    /// List, item, which field (text, checked, position, removed), value.
    Item(u8, u8, u8, u8),
}

const EMOJI: [&str; 3] = ["💛", "😂", "👍"];

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => any::<u8>().prop_map(Step::Post),
        2 => any::<u8>().prop_map(Step::Edit),
        1 => any::<u8>().prop_map(Step::Delete),
        3 => (any::<u8>(), 0..3u8).prop_map(|(m, e)| Step::React(m, e)),
        2 => (any::<u8>(), 0..3u8).prop_map(|(m, e)| Step::Unreact(m, e)),
        2 => any::<u8>().prop_map(Step::Read),
        1 => Just(Step::Delivered),
        1 => (any::<bool>(), any::<bool>()).prop_map(|(a, m)| Step::Settings(a, m)),
        1 => (0..3u8).prop_map(Step::Channel),
        1 => any::<u8>().prop_map(Step::Status),
        1 => any::<u8>().prop_map(Step::Mood),
        1 => Just(Step::Nudge),
        2 => (any::<u8>(), any::<bool>()).prop_map(|(m, p)| Step::Pin(m, p)),
        1 => any::<u8>().prop_map(Step::Together),
        2 => (0..3u8, any::<bool>()).prop_map(|(d, keep)| Step::Date(d, keep)),
        1 => (0..2u8, any::<bool>()).prop_map(|(l, keep)| Step::List(l, keep)),
        4 => (0..2u8, 0..4u8, 0..4u8, any::<u8>()).prop_map(|(l, i, f, v)| Step::Item(l, i, f, v)),
    ]
}

/// Writes the scenario's events: each device's log in order, Lamport clocks advancing as
/// devices "see" earlier events (every step sees everything before it, like a chat).
fn write_scenario(seed: u64, steps: &[(usize, Step)]) -> (TestSpace, Vec<SealedEvent>) {
    let mut s = TestSpace::new(seed, &[2, 1]);
    let mut events = Vec::new();
    let mut posts: Vec<MessageId> = Vec::new();
    let channels = [duet_model::ChannelId([1; 16]), duet_model::ChannelId([2; 16]), duet_model::ChannelId([3; 16])];
    for (n, (device, step)) in steps.iter().enumerate() {
        let d = device % s.devices.len();
        let now = Timestamp(1_700_000_000_000 + (n as u64) * 7 % 50);
        let pick = |i: &u8| posts.get(*i as usize % posts.len().max(1)).copied();
        let payload = match step {
            Step::Post(i) => Some(TestSpace::text(&format!("message {i}"))),
            Step::Edit(i) => pick(i).map(|message| Payload::Edit { message, content: format!("edit {n}") }),
            Step::Delete(i) => pick(i).map(|message| Payload::Delete { message }),
            Step::React(i, e) => pick(i).map(|message| Payload::React { message, emoji: EMOJI[*e as usize].into() }),
            Step::Unreact(i, e) => {
                pick(i).map(|message| Payload::Unreact { message, emoji: EMOJI[*e as usize].into() })
            }
            Step::Read(i) => pick(i).map(|up_to| Payload::MarkRead { target: Target::Direct, up_to }),
            Step::Delivered => {
                let held = s.devices.iter().map(|d| (d.key.id(), d.head.seq)).collect();
                Some(Payload::Delivered { held })
            }
            Step::Settings(a, m) => {
                Some(Payload::ConversationSettings { target: Target::Direct, archived: Some(*a), muted: Some(*m) })
            }
            Step::Channel(c) => Some(Payload::ChannelUpdate {
                channel: channels[*c as usize],
                change: ChannelChange { name: Some(format!("channel-{n}")), ..Default::default() },
            }),
            Step::Status(i) => Some(Payload::CustomStatus { text: (i % 2 == 0).then(|| format!("status {i}")) }),
            Step::Mood(i) => Some(Payload::Mood {
                mood: (i % 3 != 0).then(|| duet_model::Mood {
                    emoji: EMOJI[*i as usize % 3].into(),
                    words: (i % 2 == 0).then(|| format!("feeling {i}")),
                }),
            }),
            Step::Nudge => Some(Payload::Nudge),
            Step::Together(i) => Some(Payload::TogetherSince {
                date: (i % 4 != 0).then(|| duet_model::CalendarDate { year: 2000 + i32::from(*i), month: 6, day: 12 }),
            }),
            Step::Date(d, keep) => Some(Payload::DateSet {
                id: duet_model::DateId([*d; 16]),
                date: keep.then(|| duet_model::SharedDate {
                    title: format!("date {n}"),
                    at: Timestamp(1_800_000_000_000 + n as u64),
                    yearly: n % 2 == 0,
                    remind_before_minutes: 60,
                }),
            }),
            Step::List(l, keep) => {
                Some(Payload::ListSet { list: duet_model::ListId([*l; 16]), title: keep.then(|| format!("list {n}")) })
            }
            Step::Item(l, i, field, v) => Some(Payload::ListItemSet {
                list: duet_model::ListId([*l; 16]),
                item: duet_model::ItemId([*i; 16]),
                text: (*field == 0).then(|| format!("item {v}")),
                checked: (*field == 1).then_some(v % 2 == 0),
                position: (*field == 2).then(|| vec![v.max(&1).to_owned()]),
                removed: (*field == 3).then_some(v % 3 == 0),
            }),
            Step::Pin(i, pinned) => {
                pick(i).map(|message| Payload::Pin { target: Target::Direct, message, pinned: *pinned })
            }
        };
        let Some(payload) = payload else { continue };
        let is_post = matches!(payload, Payload::Post { .. });
        let event = s.write(d, payload, now);
        if is_post {
            posts.push(TestSpace::message_id(&event));
        }
        let lamport = event.lamport();
        for other in 0..s.devices.len() {
            s.observe(other, lamport);
        }
        events.push(event);
    }
    (s, events)
}

/// Interleaves the per-author logs in the order given by `choices`, keeping each author's
/// events in seq order.
fn interleave(opened: &[OpenedEvent], choices: &[u8]) -> Vec<OpenedEvent> {
    let mut queues: Vec<std::collections::VecDeque<OpenedEvent>> = Vec::new();
    let mut authors = Vec::new();
    for e in opened {
        let i = match authors.iter().position(|a| *a == e.author()) {
            Some(i) => i,
            None => {
                authors.push(e.author());
                queues.push(Default::default());
                authors.len() - 1
            }
        };
        queues[i].push_back(e.clone());
    }
    let mut out = Vec::with_capacity(opened.len());
    let mut c = choices.iter().cycle();
    while out.len() < opened.len() {
        let live: Vec<usize> = (0..queues.len()).filter(|i| !queues[*i].is_empty()).collect();
        let pick = live[*c.next().unwrap_or(&0) as usize % live.len()];
        out.push(queues[pick].pop_front().expect("live queue"));
    }
    out
}

fn fold_all(space: duet_model::SpaceId, events: &[OpenedEvent]) -> MemoryViews {
    let mut views = MemoryViews::default();
    for e in events {
        fold(&mut views, space, e);
    }
    views
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn any_arrival_order_gives_identical_views(
        seed in any::<u64>(),
        steps in proptest::collection::vec((0..3usize, step()), 1..60),
        order_a in proptest::collection::vec(any::<u8>(), 1..40),
        order_b in proptest::collection::vec(any::<u8>(), 1..40),
    ) {
        let (s, events) = write_scenario(seed, &steps);
        let opened = s.open_all(&events);
        let reference = fold_all(s.space, &opened);
        let a = fold_all(s.space, &interleave(&opened, &order_a));
        let b = fold_all(s.space, &interleave(&opened, &order_b));
        prop_assert_eq!(&a, &reference);
        prop_assert_eq!(&b, &reference);
        // Folding an event twice changes nothing either.
        let mut twice = a.clone();
        for e in &opened { fold(&mut twice, s.space, e); }
        prop_assert_eq!(&twice, &reference);
    }
}

#[test]
fn edits_deletes_reactions_and_receipts_fold_as_a_user_expects() {
    let (s, events) = write_scenario(
        3,
        &[
            (0, Step::Post(0)),     // Ada's laptop posts m0
            (2, Step::React(0, 0)), // Ben reacts 💛
            (1, Step::Edit(0)),     // Ada's desktop edits m0
            (2, Step::Edit(0)),     // Ben tries to edit Ada's message: ignored
            (2, Step::Delivered),
            (2, Step::Read(0)),
        ],
    );
    let opened = s.open_all(&events);
    // Deliver in reverse author order: the edit and reaction arrive before the post.
    let mut reversed = opened.clone();
    reversed.reverse();
    let mut per_author = interleave(&opened, &[2, 2, 2, 1, 0]);
    per_author.dedup();
    let views = fold_all(s.space, &per_author);
    let record = views.messages.values().next().unwrap();
    let ben = s.persons[1].id();
    let m = record.to_message(Some(ben), views.delivered_at(record, &ben), views.read_at(record, &ben));
    assert_eq!(m.content, "edit 2");
    assert!(m.edited);
    assert_eq!(m.reactions.len(), 1);
    assert_eq!(m.reactions[0].emoji, "💛");
    assert!(m.delivered && m.read);
    assert!(views.pending.is_empty());
}

/// The `i`th of a run of distinct emoji (pictographs from U+1F300 on).
fn nth_emoji(i: usize) -> String {
    char::from_u32(0x1F300 + i as u32).expect("a pictograph").to_string()
}

/// Ada's two devices each put 15 different emoji on Ben's message (30 in all, which Duet
/// refuses to send; a device that sends them anyway): whatever order they arrive in, every
/// device shows the same 20 of them, the earliest written, and Ben's own reaction still.
#[test]
fn a_person_shows_at_most_20_reactions_on_a_message_and_every_order_agrees() {
    let mut s = TestSpace::new(7, &[2, 1]);
    let at = |n: u64| Timestamp(1_700_000_000_000 + n);
    let post = s.write(2, TestSpace::text("pick one"), at(0));
    let message = TestSpace::message_id(&post);
    let mut events = vec![post.clone()];
    for d in [0, 1] {
        s.observe(d, post.lamport());
    }
    for i in 0..30 {
        let d = i % 2;
        events.push(s.write(d, Payload::React { message, emoji: nth_emoji(i) }, at(1 + i as u64)));
    }
    events.push(s.write(2, Payload::React { message, emoji: "💛".into() }, at(100)));
    let opened = s.open_all(&events);
    let (ada, ben) = (s.persons[0].id(), s.persons[1].id());

    let reference = fold_all(s.space, &opened);
    for order in [vec![0u8], vec![1, 1, 0, 2], vec![2, 0, 0, 1, 1, 1]] {
        assert_eq!(fold_all(s.space, &interleave(&opened, &order)), reference);
    }
    let record = reference.messages.get(&message).expect("the message");
    let shown = record.to_message(Some(ben), None, None).reactions;
    let mine: Vec<&str> = shown.iter().filter(|r| r.user == ada).map(|r| r.emoji.as_str()).collect();
    assert_eq!(mine.len(), duet_model::MAX_REACTIONS_PER_PERSON);
    // The earliest written count: the first ten of each device, by Lamport clock.
    let mut expected: Vec<String> = (0..20).map(nth_emoji).collect();
    expected.sort();
    let mut got: Vec<String> = mine.iter().map(|e| e.to_string()).collect();
    got.sort();
    assert_eq!(got, expected);
    assert!(shown.iter().any(|r| r.user == ben && r.emoji == "💛"), "the other person's reactions are not crowded out");
    // Sending a 21st is refused in words; a 20th that is already there is fine.
    let err = record.check_reaction(&ada, &nth_emoji(40)).unwrap_err();
    assert!(err.to_string().contains("20 different emoji"), "{err}");
    assert!(record.check_reaction(&ada, &nth_emoji(3)).is_ok());
    assert!(record.check_reaction(&ben, "😂").is_ok());
}

/// A device that reacts and takes back 100 different emoji on one message: the record keeps
/// 64 of them for that person (the same 64 whatever the order), so a message's size stays
/// bounded, and more are refused when sent.
#[test]
fn reactions_remembered_per_person_are_bounded_and_the_same_in_every_order() {
    let mut s = TestSpace::new(8, &[2, 1]);
    let at = |n: u64| Timestamp(1_700_000_000_000 + n);
    let post = s.write(2, TestSpace::text("so many feelings"), at(0));
    let message = TestSpace::message_id(&post);
    let mut events = vec![post.clone()];
    for d in [0, 1] {
        s.observe(d, post.lamport());
    }
    for i in 0..100 {
        let d = i % 2;
        events.push(s.write(d, Payload::React { message, emoji: nth_emoji(i) }, at(1 + i as u64)));
        events.push(s.write(d, Payload::Unreact { message, emoji: nth_emoji(i) }, at(2 + i as u64)));
    }
    let opened = s.open_all(&events);
    let ada = s.persons[0].id();
    let reference = fold_all(s.space, &opened);
    for order in [vec![0u8], vec![1, 1, 0, 2], vec![2, 0, 0, 1, 1, 1]] {
        assert_eq!(fold_all(s.space, &interleave(&opened, &order)), reference);
    }
    let record = reference.messages.get(&message).expect("the message");
    assert_eq!(record.reactions.len(), duet_model::MAX_REACTIONS_KEPT_PER_PERSON);
    assert!(record.to_message(None, None, None).reactions.is_empty(), "all were taken back");
    let err = record.check_reaction(&ada, &nth_emoji(99)).unwrap_err();
    assert!(err.to_string().contains("64 different reactions"), "{err}");
    assert!(record.check_reaction(&ada, &nth_emoji(0)).is_ok(), "one used before can be used again");
}
