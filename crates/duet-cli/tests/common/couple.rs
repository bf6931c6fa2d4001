//! Ada and Ben, paired, each `duet up` with a sound server of its own (`sound`), for calls
//! through the real device path (tests/devices.rs, benches/call_devices.rs).

use std::path::Path;

use serde_json::Value;

use super::sound::VirtualSound;
use super::{ok, up_with, wait_until, Up};

pub fn json(dir: &Path, args: &[&str]) -> Value {
    serde_json::from_str(ok(dir, args).trim()).expect("JSON")
}

pub fn call_status(dir: &Path) -> Value {
    json(dir, &["call-status"])
}

/// Ada and Ben, paired, each with a sound server whose microphone hears a tone of its own.
pub struct Couple {
    a: tempfile::TempDir,
    b: tempfile::TempDir,
    pub a_sound: VirtualSound,
    pub b_sound: VirtualSound,
    _ups: (Up, Up),
}

impl Couple {
    pub fn new(a_tone: f32, b_tone: f32) -> Couple {
        let (mut a_sound, mut b_sound) = (VirtualSound::start(), VirtualSound::start());
        a_sound.speak_tone(a_tone);
        b_sound.speak_tone(b_tone);
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        ok(a.path(), &["init", "--name", "Ada"]);
        ok(b.path(), &["init", "--name", "Ben"]);
        let ups = (up_with(a.path(), &a_sound.env()), up_with(b.path(), &b_sound.env()));
        let ticket = ok(a.path(), &["invite"]).lines().next().unwrap().to_owned();
        ok(b.path(), &["join", &ticket]);
        Couple { a, b, a_sound, b_sound, _ups: ups }
    }

    pub fn a(&self) -> &Path {
        self.a.path()
    }

    pub fn b(&self) -> &Path {
        self.b.path()
    }

    /// Ada calls with `args`, Ben answers with his defaults; both see the call active.
    pub fn call(&self, args: &[&str]) -> Value {
        let placed = json(self.a(), &[&["call"], args].concat());
        wait_until("Ben's computer rings", || call_status(self.b())["call"]["phase"] == "ringing");
        ok(self.b(), &["answer"]);
        wait_until("the call is active on both", || {
            call_status(self.a())["call"]["phase"] == "active" && call_status(self.b())["call"]["phase"] == "active"
        });
        placed
    }
}
