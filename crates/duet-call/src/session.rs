//! One call's media over webrtc-rs: a peer connection carrying Opus audio, VP8 video (video
//! calls) and a data channel, fed from a [`CallMedia`]'s sources and playing into its sinks.
//!
//! Flow: the caller's session is the offerer. It adds its tracks and the `duet` data channel,
//! and emits its SDP offer as a [`MediaEvent::Signal`]; the callee's session (the answerer)
//! takes the offer through [`MediaSession::remote_signal`] and emits the answer. ICE
//! candidates trickle both ways the same way (candidates that arrive before the remote
//! description are held, at most [`MAX_PENDING_ICE`]). Once connected, media flows: audio
//! every 20 ms from the source, video at the configured frame rate from the camera thread.
//!
//! Audio that arrives goes into a [`JitterBuffer`]; every 20 ms the next frame comes out and is
//! decoded, rebuilt from the next packet's Opus FEC, or concealed. Video is decoded as it
//! comes (a frame with a hole is dropped and a key frame requested over the data channel).
//!
//! The data channel carries small control notes: mute and camera state (sent on open and on
//! every change, so the partner's UI can show them), key frame requests, and application
//! data of at most [`MAX_DATA_BYTES`]. Unknown notes are ignored.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use duet_log::{CallSignal, SdpKind};
use duet_model::{CallId, CallKind};
use rtc::media::Sample;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::media_engine::{MIME_TYPE_OPUS, MIME_TYPE_VP8};
use rtc::peer_connection::configuration::{RTCConfigurationBuilder, RTCIceTransportPolicy};
use rtc::peer_connection::transport::{RTCIceCandidateType, RTCIceServer};
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
};
use rtc::statistics::report::RTCStatsReportEntry;
use rtc::statistics::stats::ice_candidate_pair::RTCStatsIceCandidatePairState;
use serde::Serialize;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use webrtc::data_channel::{DataChannel, DataChannelEvent};
use webrtc::media_stream::track_local::static_sample::TrackLocalStaticSample;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::media_stream::Track;
use webrtc::peer_connection::{
    register_default_interceptors, MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCIceCandidateInit, RTCPeerConnectionIceEvent, RTCPeerConnectionState, RTCSessionDescription,
    SettingEngineBuilder,
};
use webrtc::rtp_transceiver::RtpSender;

use crate::codec::opus::{OpusDecoder, OpusEncoder};
use crate::codec::vp8::{EncodedFrame, Vp8Decoder, Vp8Encoder, Vp8Settings};
use crate::codec::vp8_rtp::{Assembled, Vp8Assembler};
use crate::frame::{FRAME_DURATION, FRAME_SAMPLES};
use crate::jitter::{JitterBuffer, Playout};
use crate::lock;
use crate::quality::{self, CallQuality, QualityMeter};
use crate::source::{AudioSink, AudioSource, CallMedia, VideoSink, VideoSource};

/// How long ICE gives direct paths before it takes one through a TURN relay.
const RELAY_HEAD_START: Duration = Duration::from_millis(1000);
/// ICE candidates held while the remote description is not set yet.
pub const MAX_PENDING_ICE: usize = 64;
/// The largest application message on the data channel.
pub const MAX_DATA_BYTES: usize = 16 * 1024;
/// Events a session queues for its driver.
const EVENT_QUEUE: usize = 64;
/// How often the audio tasks look at a device's clock (a microphone's captured audio, a
/// speaker's queue).
const POLL: Duration = Duration::from_millis(5);
/// A speaker holding less than this (10 ms at 48 kHz) gets the next frame: enough to cover a
/// sound card period (5 ms with the 20 ms buffer `devices` asks for) and a look 5 ms late;
/// less would be heard as clicks, more is delay.
const SPEAKER_LOW: usize = 480;
/// The most frames one look sends or decodes (a task that stalled catches up, a backlog past
/// this is cut where the device keeps its buffer).
const MAX_FRAMES_AT_ONCE: usize = 3;
/// A microphone that delivered no whole frame for this long is read on the call's clock.
const STALLED: Duration = Duration::from_millis(60);

/// A TURN server and the credentials it gave this device.
#[derive(Clone, PartialEq, Eq)]
pub struct TurnServer {
    /// `turn:host:port?transport=udp` (webrtc-rs relays over UDP only).
    pub url: String,
    pub username: String,
    pub credential: String,
}

impl std::fmt::Debug for TurnServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TurnServer").field("url", &self.url).field("username", &self.username).finish_non_exhaustive()
    }
}

/// How a session binds and encodes.
#[derive(Debug, Clone)]
pub struct MediaConfig {
    /// Local UDP addresses for ICE (`0.0.0.0:0`: every interface, ports the OS picks).
    pub udp_addrs: Vec<SocketAddr>,
    /// Offer loopback candidates too (two devices on one machine, tests).
    pub include_loopback: bool,
    /// STUN servers (`stun:host:port`) that tell this device its address outside its home
    /// router, so a call gets through routers on both sides. None by default: a node uses its
    /// relays' (`duet relay` answers STUN).
    pub stun_servers: Vec<String>,
    /// TURN servers that relay the call when nothing direct gets through (both partners
    /// behind symmetric NATs). None by default: a node asks its relays (`duet relay` serves
    /// TURN to the devices it serves).
    pub turn_servers: Vec<TurnServer>,
    /// Only relayed candidates (ICE's "relay" policy): every packet goes through TURN. For
    /// tests that prove the relay path; a person's calls try direct paths first.
    pub relay_only: bool,
    pub audio_bitrate: i32,
    pub video_fps: u32,
    pub video_bitrate_kbps: u32,
}

impl Default for MediaConfig {
    fn default() -> Self {
        Self {
            udp_addrs: vec![SocketAddr::from(([0, 0, 0, 0], 0))],
            include_loopback: true,
            stun_servers: Vec::new(),
            turn_servers: Vec::new(),
            relay_only: false,
            audio_bitrate: 32_000,
            video_fps: 15,
            video_bitrate_kbps: 600,
        }
    }
}

impl MediaConfig {
    /// Loopback only: what tests and benchmarks use.
    pub fn loopback() -> Self {
        Self { udp_addrs: vec![SocketAddr::from(([127, 0, 0, 1], 0))], ..Self::default() }
    }
}

/// What a session tells its driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaEvent {
    /// An SDP or ICE candidate to send to the peer.
    Signal(CallSignal),
    /// Media can flow.
    Connected,
    /// The connection failed (or could not be set up).
    Failed(String),
    /// The partner muted or unmuted their microphone.
    RemoteMuted(bool),
    /// The partner turned their camera off or on.
    RemoteCamera(bool),
    /// Application data from the partner.
    Data(Vec<u8>),
}

/// A session could not start or take a signal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    #[error("webrtc: {0}")]
    WebRtc(String),
    #[error(transparent)]
    Codec(#[from] crate::codec::CodecError),
    #[error("the session is closed")]
    Closed,
    #[error("{0}")]
    NotAllowed(&'static str),
}

fn rtc_err(e: impl std::fmt::Display) -> MediaError {
    MediaError::WebRtc(e.to_string())
}

/// Counters of one session.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MediaStats {
    pub audio_frames_sent: u64,
    /// Audio frames played from their own packet.
    pub audio_frames_decoded: u64,
    /// Lost audio frames rebuilt from the next packet's in-band FEC.
    pub audio_frames_fec: u64,
    /// Audio frames concealed (Opus PLC): lost with nothing to rebuild them from, or played
    /// while the jitter buffer lengthened its delay.
    pub audio_frames_concealed: u64,
    /// Audio packets that came after their frame had played (dropped).
    pub audio_packets_late: u64,
    /// Audio packets that came more than once (dropped).
    pub audio_packets_duplicate: u64,
    /// The jitter buffer's target delay now, in milliseconds.
    pub audio_jitter_delay_ms: u64,
    pub video_frames_sent: u64,
    pub video_frames_decoded: u64,
    /// Video frames dropped because a packet was missing or they did not decode.
    pub video_frames_lost: u64,
    pub keyframe_requests_sent: u64,
}

#[derive(Default)]
struct Counters {
    audio_sent: AtomicU64,
    audio_decoded: AtomicU64,
    audio_fec: AtomicU64,
    audio_concealed: AtomicU64,
    audio_late: AtomicU64,
    audio_duplicate: AtomicU64,
    audio_jitter_delay_ms: AtomicU64,
    video_sent: AtomicU64,
    video_decoded: AtomicU64,
    video_lost: AtomicU64,
    keyframe_requests: AtomicU64,
}

fn bump(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

/// Data channel notes (first byte).
const NOTE_MUTED: u8 = 1;
const NOTE_CAMERA: u8 = 2;
const NOTE_KEYFRAME: u8 = 3;
const NOTE_DATA: u8 = 4;

struct Shared {
    call: CallId,
    events: mpsc::Sender<MediaEvent>,
    muted: AtomicBool,
    camera: AtomicBool,
    force_keyframe: AtomicBool,
    closed: AtomicBool,
    connected: watch::Sender<bool>,
    counters: Counters,
    audio_sink: Mutex<Option<Box<dyn AudioSink>>>,
    video_sink: Mutex<Option<Box<dyn VideoSink>>>,
    /// Devices switched mid-call, picked up by the task that uses them at its next frame.
    next_audio_source: Mutex<Option<Box<dyn AudioSource>>>,
    next_audio_sink: Mutex<Option<Box<dyn AudioSink>>>,
    /// `Some(None)`: stop sending pictures; `Some(Some(source))`: send from this one.
    next_video_source: Mutex<Option<Option<Box<dyn VideoSource>>>>,
    /// Whether pictures have a source now (a camera or a shared screen).
    has_video_source: AtomicBool,
    data_channel: Mutex<Option<Arc<dyn DataChannel>>>,
    remote_described: AtomicBool,
    pending_ice: Mutex<Vec<RTCIceCandidateInit>>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    last_keyframe_request: Mutex<Option<Instant>>,
    quality: Mutex<QualityMeter>,
}

impl Shared {
    fn spawn(&self, f: impl std::future::Future<Output = ()> + Send + 'static) {
        let mut tasks = lock(&self.tasks);
        tasks.retain(|t| !t.is_finished());
        tasks.push(tokio::spawn(f));
    }

    async fn emit(&self, event: MediaEvent) {
        let _ = self.events.send(event).await;
    }

    fn note(&self, bytes: Vec<u8>) {
        let Some(dc) = lock(&self.data_channel).clone() else { return };
        self.spawn(async move {
            let _ = dc.send(BytesMut::from(&bytes[..])).await;
        });
    }

    fn announce_state(&self) {
        self.note(vec![NOTE_MUTED, u8::from(self.muted.load(Ordering::Relaxed))]);
        self.note(vec![NOTE_CAMERA, u8::from(self.camera.load(Ordering::Relaxed))]);
    }

    /// Asks the partner for a key frame, at most twice a second.
    fn request_keyframe(&self) {
        {
            let mut last = lock(&self.last_keyframe_request);
            if last.is_some_and(|t| t.elapsed() < Duration::from_millis(500)) {
                return;
            }
            *last = Some(Instant::now());
        }
        bump(&self.counters.keyframe_requests, 1);
        self.note(vec![NOTE_KEYFRAME]);
    }

    fn watch_data_channel(self: &Arc<Self>, dc: Arc<dyn DataChannel>) {
        *lock(&self.data_channel) = Some(dc.clone());
        let shared = self.clone();
        self.spawn(async move {
            while let Some(event) = dc.poll().await {
                match event {
                    DataChannelEvent::OnOpen => shared.announce_state(),
                    DataChannelEvent::OnMessage(m) => {
                        let event = match (m.data.first(), m.data.get(1)) {
                            (Some(&NOTE_MUTED), Some(v)) => MediaEvent::RemoteMuted(*v != 0),
                            (Some(&NOTE_CAMERA), Some(v)) => MediaEvent::RemoteCamera(*v != 0),
                            (Some(&NOTE_KEYFRAME), _) => {
                                shared.force_keyframe.store(true, Ordering::Relaxed);
                                continue;
                            }
                            (Some(&NOTE_DATA), _) if m.data.len() <= MAX_DATA_BYTES + 1 => {
                                MediaEvent::Data(m.data[1..].to_vec())
                            }
                            _ => continue,
                        };
                        shared.emit(event).await;
                    }
                    DataChannelEvent::OnClose => break,
                    _ => {}
                }
            }
        });
    }
}

struct Handler {
    shared: Arc<Shared>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_candidate(&self, event: RTCPeerConnectionIceEvent) {
        let Ok(init) = event.candidate.to_json() else { return };
        let signal = CallSignal::Ice {
            call: self.shared.call,
            candidate: init.candidate,
            sdp_mid: init.sdp_mid,
            sdp_mline_index: init.sdp_mline_index,
        };
        self.shared.emit(MediaEvent::Signal(signal)).await;
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        match state {
            RTCPeerConnectionState::Connected => {
                self.shared.connected.send_replace(true);
                self.shared.emit(MediaEvent::Connected).await;
            }
            RTCPeerConnectionState::Failed => {
                self.shared.emit(MediaEvent::Failed("the media connection failed".into())).await;
            }
            _ => {}
        }
    }

    async fn on_data_channel(&self, dc: Arc<dyn DataChannel>) {
        if dc.label().await.is_ok_and(|l| l == "duet") {
            self.shared.watch_data_channel(dc);
        }
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let shared = self.shared.clone();
        match track.kind().await {
            RtpCodecKind::Audio => {
                let Some(sink) = lock(&shared.audio_sink).take() else { return };
                self.shared.spawn(receive_audio(shared, track, sink));
            }
            RtpCodecKind::Video => {
                let Some(sink) = lock(&shared.video_sink).take() else { return };
                self.shared.spawn(receive_video(shared, track, sink));
            }
            _ => {}
        }
    }
}

/// Plays the partner's audio: packets go into the jitter buffer as they arrive, and frames
/// come out into the sink on its clock: a speaker's (a frame is decoded when it holds less than
/// [`SPEAKER_LOW`]), or for a sink without one, the call's 20 ms clock. One task owns the
/// buffer and the decoder, so neither is shared or locked.
async fn receive_audio(shared: Arc<Shared>, track: Arc<dyn TrackRemote>, mut sink: Box<dyn AudioSink>) {
    let Ok(mut decoder) = OpusDecoder::new() else { return };
    let mut buffer = JitterBuffer::new();
    // Missed ticks (a busy machine) are made up at once (tokio's default), so the sink gets 20
    // ms of audio per 20 ms that passed and the buffer's schedule stays true to the clock.
    let mut clock = tokio::time::interval(FRAME_DURATION);
    let mut poll = tokio::time::interval(POLL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        let clocked = sink.queued().is_none();
        tokio::select! {
            event = track.poll() => match event {
                Some(TrackRemoteEvent::OnRtpPacket(packet)) => {
                    buffer.push(packet.header.sequence_number, packet.payload, Instant::now());
                }
                Some(_) => {}
                None => break,
            },
            _ = clock.tick(), if clocked => {
                play_audio_frame(&shared.counters, &mut buffer, &mut decoder, sink.as_mut());
            }
            _ = poll.tick(), if !clocked => {
                // A frame at a time while the speaker runs low (a few at most: after a stall).
                for _ in 0..MAX_FRAMES_AT_ONCE {
                    if sink.queued().is_none_or(|q| q >= SPEAKER_LOW)
                        || !play_audio_frame(&shared.counters, &mut buffer, &mut decoder, sink.as_mut())
                    {
                        break;
                    }
                }
            }
        }
        if let Some(next) = lock(&shared.next_audio_sink).take() {
            sink = next;
        }
    }
}

/// One 20 ms frame out of the jitter buffer: decoded, rebuilt from FEC, or concealed. False
/// while playout has not started (nothing was written).
fn play_audio_frame(
    c: &Counters,
    buffer: &mut JitterBuffer,
    decoder: &mut OpusDecoder,
    sink: &mut dyn AudioSink,
) -> bool {
    let frame = match buffer.pop(Instant::now()) {
        Playout::Waiting => return false,
        Playout::Decode(packet) => {
            if let Ok(pcm) = decoder.decode(&packet) {
                sink.write(pcm);
                if c.audio_decoded.fetch_add(1, Ordering::Relaxed) == 0 {
                    tracing::debug!("the partner's first audio frame is played");
                }
                publish_jitter(c, buffer);
                return true;
            }
            // A packet that does not decode (a broken peer) is a lost frame.
            bump(&c.audio_concealed, 1);
            decoder.recover(None)
        }
        Playout::Fec(next) => {
            bump(&c.audio_fec, 1);
            decoder.recover(Some(&next))
        }
        Playout::Conceal => {
            bump(&c.audio_concealed, 1);
            decoder.recover(None)
        }
    };
    match frame {
        Ok(pcm) => sink.write(pcm),
        // Silence keeps the sink's timeline whole.
        Err(_) => sink.write(&[0; FRAME_SAMPLES]),
    }
    publish_jitter(c, buffer);
    true
}

fn publish_jitter(c: &Counters, buffer: &JitterBuffer) {
    let s = buffer.stats();
    c.audio_late.store(s.late, Ordering::Relaxed);
    c.audio_duplicate.store(s.duplicates, Ordering::Relaxed);
    let delay = u64::try_from(buffer.target_delay().as_millis()).unwrap_or(u64::MAX);
    c.audio_jitter_delay_ms.store(delay, Ordering::Relaxed);
}

/// Joins the partner's VP8 packets into frames and hands them to the decoder thread.
async fn receive_video(shared: Arc<Shared>, track: Arc<dyn TrackRemote>, sink: Box<dyn VideoSink>) {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(8);
    let decoder_shared = shared.clone();
    let decoder = std::thread::Builder::new().name("duet-vp8-decode".into()).spawn(move || {
        decode_video(decoder_shared, rx, sink);
    });
    if decoder.is_err() {
        return;
    }
    let mut assembler = Vp8Assembler::default();
    while let Some(event) = track.poll().await {
        let TrackRemoteEvent::OnRtpPacket(packet) = event else { continue };
        let h = &packet.header;
        match assembler.push(h.sequence_number, h.timestamp, h.marker, &packet.payload) {
            Assembled::Pending => {}
            Assembled::Frame(frame) => {
                if tx.try_send(frame).is_err() {
                    // The decoder is behind: this frame is dropped, so the next ones need a
                    // fresh key frame to decode cleanly.
                    bump(&shared.counters.video_lost, 1);
                    shared.request_keyframe();
                }
            }
            Assembled::Lost => {
                bump(&shared.counters.video_lost, 1);
                shared.request_keyframe();
            }
        }
    }
}

fn decode_video(shared: Arc<Shared>, rx: std::sync::mpsc::Receiver<Vec<u8>>, mut sink: Box<dyn VideoSink>) {
    let Ok(mut decoder) = Vp8Decoder::new() else { return };
    while let Ok(frame) = rx.recv() {
        match decoder.decode(&frame) {
            Ok(frames) => {
                for f in &frames {
                    sink.frame(f);
                }
                bump(&shared.counters.video_decoded, frames.len() as u64);
            }
            Err(_) => {
                bump(&shared.counters.video_lost, 1);
                shared.request_keyframe();
            }
        }
    }
}

/// One call's media. Dropping it without [`MediaSession::close`] stops its tasks too.
pub struct MediaSession {
    shared: Arc<Shared>,
    pc: Arc<dyn PeerConnection>,
    kind: CallKind,
    offerer: bool,
}

fn random_ssrc() -> u32 {
    let mut h = RandomState::new().build_hasher();
    h.write_u64(0);
    (h.finish() >> 7) as u32 | 1
}

fn opus_codec() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: MIME_TYPE_OPUS.to_owned(),
        clock_rate: 48_000,
        channels: 2,
        sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
        rtcp_feedback: vec![],
    }
}

fn vp8_codec() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: MIME_TYPE_VP8.to_owned(),
        clock_rate: 90_000,
        channels: 0,
        sdp_fmtp_line: String::new(),
        rtcp_feedback: vec![],
    }
}

fn local_track(kind: RtpCodecKind, codec: RTCRtpCodec, ssrc: u32) -> Result<Arc<TrackLocalStaticSample>, MediaError> {
    let name = if kind == RtpCodecKind::Audio { "audio" } else { "video" };
    let track = MediaStreamTrack::new(
        "duet".to_owned(),
        format!("duet-{name}"),
        format!("duet-{name}"),
        kind,
        vec![RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters { ssrc: Some(ssrc), ..Default::default() },
            codec,
            ..Default::default()
        }],
    );
    Ok(Arc::new(TrackLocalStaticSample::new(Instant::now(), track).map_err(rtc_err)?))
}

async fn payload_type(sender: &Arc<dyn RtpSender>) -> Option<u8> {
    sender.get_parameters().await.ok()?.rtp_parameters.codecs.first().map(|c| c.payload_type)
}

impl MediaSession {
    /// Builds the peer connection and starts the media tasks (they wait for the connection).
    /// The offerer emits its offer at once; the answerer waits for one.
    pub async fn start(
        call: CallId,
        kind: CallKind,
        offerer: bool,
        media: CallMedia,
        config: &MediaConfig,
    ) -> Result<(MediaSession, mpsc::Receiver<MediaEvent>), MediaError> {
        let (events, events_rx) = mpsc::channel(EVENT_QUEUE);
        let CallMedia { audio_source, audio_sink, video_source, video_sink } = media;
        let video_source = if kind == CallKind::Video { video_source } else { None };
        let shared = Arc::new(Shared {
            call,
            events,
            muted: AtomicBool::new(false),
            camera: AtomicBool::new(video_source.is_some()),
            force_keyframe: AtomicBool::new(true),
            closed: AtomicBool::new(false),
            connected: watch::channel(false).0,
            counters: Counters::default(),
            audio_sink: Mutex::new(Some(audio_sink)),
            video_sink: Mutex::new(Some(video_sink)),
            next_audio_source: Mutex::new(None),
            next_audio_sink: Mutex::new(None),
            next_video_source: Mutex::new(None),
            has_video_source: AtomicBool::new(video_source.is_some()),
            data_channel: Mutex::new(None),
            remote_described: AtomicBool::new(false),
            pending_ice: Mutex::new(Vec::new()),
            tasks: Mutex::new(Vec::new()),
            last_keyframe_request: Mutex::new(None),
            quality: Mutex::new(QualityMeter::default()),
        });

        let mut engine = MediaEngine::default();
        engine
            .register_codec(RTCRtpCodecParameters { rtp_codec: opus_codec(), payload_type: 111 }, RtpCodecKind::Audio)
            .map_err(rtc_err)?;
        engine
            .register_codec(RTCRtpCodecParameters { rtp_codec: vp8_codec(), payload_type: 96 }, RtpCodecKind::Video)
            .map_err(rtc_err)?;
        let registry =
            register_default_interceptors(webrtc::peer_connection::Registry::new(), &mut engine).map_err(rtc_err)?;
        let settings = SettingEngineBuilder::new()
            .with_multicast_dns_mode(rtc::ice::mdns::MulticastDnsMode::Disabled)
            .with_include_loopback_candidate(config.include_loopback)
            // A relayed pair is taken after RELAY_HEAD_START instead of ICE's 2 s: direct and
            // hole-punched pairs (server reflexive ones wait 0.5 s) still get a second to win,
            // and a call between two symmetric NATs starts a second sooner.
            .with_relay_acceptance_min_wait(Some(RELAY_HEAD_START))
            .build();
        let mut ice_servers = match config.stun_servers.is_empty() {
            true => Vec::new(),
            false => vec![RTCIceServer { urls: config.stun_servers.clone(), ..Default::default() }],
        };
        ice_servers.extend(config.turn_servers.iter().map(|t| RTCIceServer {
            urls: vec![t.url.clone()],
            username: t.username.clone(),
            credential: t.credential.clone(),
        }));
        let policy = match config.relay_only {
            true => RTCIceTransportPolicy::Relay,
            false => RTCIceTransportPolicy::All,
        };
        let configuration =
            RTCConfigurationBuilder::new().with_ice_servers(ice_servers).with_ice_transport_policy(policy).build();
        let pc = PeerConnectionBuilder::new()
            .with_configuration(configuration)
            .with_media_engine(engine)
            .with_interceptor_registry(registry)
            .with_setting_engine(settings)
            .with_handler(Arc::new(Handler { shared: shared.clone() }))
            .with_udp_addrs(config.udp_addrs.clone())
            .build()
            .await
            .map_err(rtc_err)?;
        let pc: Arc<dyn PeerConnection> = Arc::new(pc);
        let session = MediaSession { shared: shared.clone(), pc: pc.clone(), kind, offerer };

        // Tracks: audio, and video both ways in every call, voice calls too: sending only
        // while there is a camera or a shared screen, but with the m-line there from the
        // start a picture can come on in the middle of a voice call without renegotiating
        // (an idle VP8 sender costs nothing on the wire).
        let audio = local_track(RtpCodecKind::Audio, opus_codec(), random_ssrc())?;
        let audio_sender = pc.add_track(audio.clone() as Arc<dyn TrackLocal>).await.map_err(rtc_err)?;
        let video = local_track(RtpCodecKind::Video, vp8_codec(), random_ssrc())?;
        let video_sender = pc.add_track(video.clone() as Arc<dyn TrackLocal>).await.map_err(rtc_err)?;
        shared.spawn(send_audio(shared.clone(), audio, audio_sender, audio_source, config.audio_bitrate));
        start_video(&shared, video, video_sender, video_source, config)?;

        if offerer {
            let dc = pc.create_data_channel("duet", None).await.map_err(rtc_err)?;
            shared.watch_data_channel(dc);
            let offer = pc.create_offer(None).await.map_err(rtc_err)?;
            pc.set_local_description(offer.clone()).await.map_err(rtc_err)?;
            shared.emit(MediaEvent::Signal(CallSignal::Sdp { call, kind: SdpKind::Offer, sdp: offer.sdp })).await;
        }
        Ok((session, events_rx))
    }

    pub fn call(&self) -> CallId {
        self.shared.call
    }

    pub fn kind(&self) -> CallKind {
        self.kind
    }

    /// An SDP or ICE candidate from the peer. Errors mean the peer sent something unusable.
    pub async fn remote_signal(&self, signal: CallSignal) -> Result<(), MediaError> {
        if self.shared.closed.load(Ordering::Relaxed) {
            return Err(MediaError::Closed);
        }
        match signal {
            CallSignal::Sdp { kind: SdpKind::Offer, sdp, .. } if !self.offerer => {
                if self.shared.remote_described.load(Ordering::Relaxed) {
                    return Err(MediaError::NotAllowed("a second offer"));
                }
                let offer = RTCSessionDescription::offer(sdp).map_err(rtc_err)?;
                self.pc.set_remote_description(offer).await.map_err(rtc_err)?;
                let answer = self.pc.create_answer(None).await.map_err(rtc_err)?;
                self.pc.set_local_description(answer.clone()).await.map_err(rtc_err)?;
                let call = self.shared.call;
                self.shared
                    .emit(MediaEvent::Signal(CallSignal::Sdp { call, kind: SdpKind::Answer, sdp: answer.sdp }))
                    .await;
                self.described().await
            }
            CallSignal::Sdp { kind: SdpKind::Answer, sdp, .. } if self.offerer => {
                if self.shared.remote_described.load(Ordering::Relaxed) {
                    return Err(MediaError::NotAllowed("a second answer"));
                }
                let answer = RTCSessionDescription::answer(sdp).map_err(rtc_err)?;
                self.pc.set_remote_description(answer).await.map_err(rtc_err)?;
                self.described().await
            }
            CallSignal::Ice { candidate, sdp_mid, sdp_mline_index, .. } => {
                if candidate.is_empty() {
                    return Ok(()); // end of candidates
                }
                let init = RTCIceCandidateInit { candidate, sdp_mid, sdp_mline_index, ..Default::default() };
                if !self.shared.remote_described.load(Ordering::Relaxed) {
                    let mut pending = lock(&self.shared.pending_ice);
                    if pending.len() >= MAX_PENDING_ICE {
                        return Err(MediaError::NotAllowed("too many early ICE candidates"));
                    }
                    pending.push(init);
                    return Ok(());
                }
                self.pc.add_ice_candidate(init).await.map_err(rtc_err)
            }
            _ => Err(MediaError::NotAllowed("an SDP that does not fit this side of the call")),
        }
    }

    async fn described(&self) -> Result<(), MediaError> {
        self.shared.remote_described.store(true, Ordering::Relaxed);
        let pending: Vec<RTCIceCandidateInit> = std::mem::take(&mut *lock(&self.shared.pending_ice));
        for c in pending {
            // A candidate that does not parse is skipped; the others may still connect.
            let _ = self.pc.add_ice_candidate(c).await;
        }
        Ok(())
    }

    /// Mutes or unmutes the microphone (silence is sent, so timing stays; the partner is told).
    pub fn set_muted(&self, muted: bool) {
        self.shared.muted.store(muted, Ordering::Relaxed);
        self.shared.note(vec![NOTE_MUTED, u8::from(muted)]);
    }

    pub fn muted(&self) -> bool {
        self.shared.muted.load(Ordering::Relaxed)
    }

    /// Turns the picture off or on (it must have a source: a camera or a shared screen).
    pub fn set_camera(&self, on: bool) -> Result<(), MediaError> {
        if on && !self.shared.has_video_source.load(Ordering::Relaxed) {
            return Err(MediaError::NotAllowed("there is no camera in this call"));
        }
        self.shared.camera.store(on, Ordering::Relaxed);
        if on {
            self.shared.force_keyframe.store(true, Ordering::Relaxed);
        }
        self.shared.note(vec![NOTE_CAMERA, u8::from(on)]);
        Ok(())
    }

    pub fn camera(&self) -> bool {
        self.shared.camera.load(Ordering::Relaxed)
    }

    /// Sends pictures from `source` from now on (a camera turned on in a voice call, a shared
    /// screen, another camera), or none (`None`). The partner is told, and gets a key frame.
    pub fn set_video_source(&self, source: Option<Box<dyn VideoSource>>) {
        let on = source.is_some();
        *lock(&self.shared.next_video_source) = Some(source);
        self.shared.has_video_source.store(on, Ordering::Relaxed);
        self.shared.camera.store(on, Ordering::Relaxed);
        self.shared.force_keyframe.store(true, Ordering::Relaxed);
        self.shared.note(vec![NOTE_CAMERA, u8::from(on)]);
    }

    /// Whether my picture has a source (a camera or a shared screen), on or off.
    pub fn has_picture(&self) -> bool {
        self.shared.has_video_source.load(Ordering::Relaxed)
    }

    /// Takes pictures from another camera from the next frame on, keeping the picture on or off
    /// as it is (a camera chosen in the call view). Refused when the call has no picture to
    /// switch (a voice call without a camera turned on).
    pub fn switch_video_source(&self, source: Box<dyn VideoSource>) -> Result<(), MediaError> {
        if !self.shared.has_video_source.load(Ordering::Relaxed) {
            return Err(MediaError::NotAllowed("there is no camera in this call"));
        }
        *lock(&self.shared.next_video_source) = Some(Some(source));
        self.shared.force_keyframe.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// Sends audio from `source` from the next frame on (another microphone).
    pub fn set_audio_source(&self, source: Box<dyn AudioSource>) {
        *lock(&self.shared.next_audio_source) = Some(source);
    }

    /// Plays the partner's audio on `sink` from the next frame on (another speaker).
    pub fn set_audio_sink(&self, sink: Box<dyn AudioSink>) {
        let mut first = lock(&self.shared.audio_sink);
        match first.as_mut() {
            // The partner's audio has not started yet: the new sink is the one it will use.
            Some(waiting) => *waiting = sink,
            None => *lock(&self.shared.next_audio_sink) = Some(sink),
        }
    }

    /// Sends application data to the partner over the data channel.
    pub async fn send_data(&self, data: &[u8]) -> Result<(), MediaError> {
        if data.len() > MAX_DATA_BYTES {
            return Err(MediaError::NotAllowed("a data message over 16 KiB"));
        }
        let dc =
            lock(&self.shared.data_channel).clone().ok_or(MediaError::NotAllowed("the data channel is not open"))?;
        let mut bytes = BytesMut::with_capacity(data.len() + 1);
        bytes.extend_from_slice(&[NOTE_DATA]);
        bytes.extend_from_slice(data);
        dc.send(bytes).await.map_err(rtc_err)
    }

    pub fn stats(&self) -> MediaStats {
        let c = &self.shared.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        MediaStats {
            audio_frames_sent: get(&c.audio_sent),
            audio_frames_decoded: get(&c.audio_decoded),
            audio_frames_fec: get(&c.audio_fec),
            audio_frames_concealed: get(&c.audio_concealed),
            audio_packets_late: get(&c.audio_late),
            audio_packets_duplicate: get(&c.audio_duplicate),
            audio_jitter_delay_ms: get(&c.audio_jitter_delay_ms),
            video_frames_sent: get(&c.video_sent),
            video_frames_decoded: get(&c.video_decoded),
            video_frames_lost: get(&c.video_lost),
            keyframe_requests_sent: get(&c.keyframe_requests),
        }
    }

    /// The connection over the last few seconds (`None` until there are two samples to
    /// compare: ask again a moment later).
    pub async fn quality(&self) -> Option<CallQuality> {
        let report = self.pc.get_stats(Instant::now(), webrtc::peer_connection::StatsSelector::None).await;
        // The pair carrying the call: nominated, else the busiest that succeeded.
        let pair = report
            .candidate_pairs()
            .filter(|p| p.nominated || p.state == RTCStatsIceCandidatePairState::Succeeded)
            .max_by_key(|p| (p.nominated, p.bytes_received + p.bytes_sent));
        let stats = self.stats();
        let sample = quality::Sample {
            at: Instant::now(),
            audio_decoded: stats.audio_frames_decoded,
            audio_lost: stats.audio_frames_fec + stats.audio_frames_concealed,
            bytes_received: pair.map_or(0, |p| p.bytes_received),
            bytes_sent: pair.map_or(0, |p| p.bytes_sent),
            round_trip: pair
                .map(|p| p.current_round_trip_time)
                .filter(|r| r.is_finite() && *r > 0.0)
                .map(Duration::from_secs_f64),
            relayed: pair.is_some_and(|p| {
                // Either end's candidate is a TURN relay's. A candidate's stats id is the
                // pair's candidate id behind a prefix ("RTCLocalIceCandidate_candidate:…").
                report.iter().any(|entry| match entry {
                    RTCStatsReportEntry::LocalCandidate(c) => {
                        c.stats.id.ends_with(&p.local_candidate_id) && c.candidate_type == RTCIceCandidateType::Relay
                    }
                    RTCStatsReportEntry::RemoteCandidate(c) => {
                        c.stats.id.ends_with(&p.remote_candidate_id) && c.candidate_type == RTCIceCandidateType::Relay
                    }
                    _ => false,
                })
            }),
        };
        lock(&self.shared.quality).read(sample)
    }

    /// Stops the media and closes the connection.
    pub async fn close(&self) {
        if self.shared.closed.swap(true, Ordering::Relaxed) {
            return;
        }
        let dc = lock(&self.shared.data_channel).take();
        if let Some(dc) = dc {
            let _ = dc.close().await;
        }
        let _ = self.pc.close().await;
        for t in lock(&self.shared.tasks).drain(..) {
            t.abort();
        }
    }
}

impl Drop for MediaSession {
    fn drop(&mut self) {
        self.shared.closed.store(true, Ordering::Relaxed);
        for t in lock(&self.shared.tasks).drain(..) {
            t.abort();
        }
        let pc = self.pc.clone();
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                let _ = pc.close().await;
            });
        }
    }
}

/// Waits until the connection is up (or the session is gone).
async fn connected(shared: &Shared) -> bool {
    let mut rx = shared.connected.subscribe();
    let up = rx.wait_for(|c| *c).await.is_ok();
    up
}

/// A frame from the source (silence while muted), encoded and sent: the moment the microphone
/// holds a whole one, or every 20 ms for a source without a clock of its own. A microphone
/// that delivers nothing for [`STALLED`] (a device going away) is read every 20 ms too
/// (silence, padded) until it delivers again, so the partner's stream keeps its pace.
///
/// (Reading the microphone on its own clock once made the echo canceller lose the echo, when
/// it ran on these reads; it runs on the audio thread now, on the stream as the card delivers
/// it, so when the call reads no longer matters to it.)
async fn send_audio(
    shared: Arc<Shared>,
    track: Arc<TrackLocalStaticSample>,
    sender: Arc<dyn RtpSender>,
    mut source: Box<dyn AudioSource>,
    bitrate: i32,
) {
    if !connected(&shared).await {
        return;
    }
    let (Ok(mut encoder), Some(pt)) = (OpusEncoder::new(bitrate), payload_type(&sender).await) else { return };
    let Some(ssrc) = track.ssrcs().await.first().copied() else { return };
    let mut pcm = vec![0i16; FRAME_SAMPLES];
    let mut clock = tokio::time::interval(FRAME_DURATION);
    clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut poll = tokio::time::interval(POLL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut last_sent = Instant::now();
    // On the call's clock: a source without one of its own, or a microphone that stalled
    // (until it holds a whole frame again).
    let mut on_call_clock = false;
    while !shared.closed.load(Ordering::Relaxed) {
        if let Some(next) = lock(&shared.next_audio_source).take() {
            source = next;
        }
        on_call_clock = match source.ready() {
            None => true,
            Some(n) => n < FRAME_SAMPLES && (on_call_clock || last_sent.elapsed() >= STALLED),
        };
        let frames = if on_call_clock {
            clock.tick().await;
            1
        } else {
            poll.tick().await;
            (source.ready().unwrap_or(0) / FRAME_SAMPLES).min(MAX_FRAMES_AT_ONCE)
        };
        for _ in 0..frames {
            source.read(&mut pcm);
            last_sent = Instant::now();
            if shared.muted.load(Ordering::Relaxed) {
                pcm.fill(0);
            }
            let Ok(packet) = encoder.encode(&pcm) else { continue };
            let sample = Sample { data: Bytes::from(packet), duration: FRAME_DURATION, ..Sample::new(Instant::now()) };
            if track.sample_writer(ssrc, pt).write_sample(&sample).await.is_ok()
                && shared.counters.audio_sent.fetch_add(1, Ordering::Relaxed) == 0
            {
                tracing::debug!("the first audio frame is sent");
            }
        }
    }
}

/// The camera thread encodes (VP8 is too heavy for the async workers); a task sends. The
/// thread runs for the whole call, idle while there is no picture to send; a new source (a
/// camera turned on, a screen shared) gets an encoder of its own size.
fn start_video(
    shared: &Arc<Shared>,
    track: Arc<TrackLocalStaticSample>,
    sender: Arc<dyn RtpSender>,
    source: Option<Box<dyn VideoSource>>,
    config: &MediaConfig,
) -> Result<(), MediaError> {
    let fps = config.video_fps.clamp(1, 60);
    let bitrate_kbps = config.video_bitrate_kbps;
    let (tx, mut rx) = mpsc::channel::<EncodedFrame>(8);
    let thread_shared = shared.clone();
    let interval = Duration::from_secs(1) / fps;
    std::thread::Builder::new()
        .name("duet-vp8-encode".into())
        .spawn(move || {
            let shared = thread_shared;
            let mut source = source;
            let mut encoder: Option<Vp8Encoder> = None;
            let mut next = Instant::now();
            while !shared.closed.load(Ordering::Relaxed) && !tx.is_closed() {
                next += interval;
                if let Some(wait) = next.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                } else {
                    next = Instant::now();
                }
                if let Some(switched) = lock(&shared.next_video_source).take() {
                    source = switched;
                    encoder = None;
                }
                let Some(source) = source.as_mut() else { continue };
                if !*shared.connected.borrow() || !shared.camera.load(Ordering::Relaxed) {
                    continue;
                }
                let Some(frame) = source.next_frame() else { continue };
                if encoder.as_ref().is_none_or(|e| e.size() != (frame.width, frame.height)) {
                    let mut settings = Vp8Settings::new(frame.width, frame.height, fps);
                    settings.bitrate_kbps = bitrate_kbps;
                    match Vp8Encoder::new(settings) {
                        Ok(e) => encoder = Some(e),
                        Err(e) => {
                            tracing::warn!("no video encoder for {}x{}: {e}", frame.width, frame.height);
                            continue;
                        }
                    }
                    shared.force_keyframe.store(true, Ordering::Relaxed);
                }
                let Some(encoder) = encoder.as_mut() else { continue };
                let keyframe = shared.force_keyframe.swap(false, Ordering::Relaxed);
                let Ok(encoded) = encoder.encode(&frame, keyframe) else { continue };
                for e in encoded {
                    if tx.try_send(e).is_err() {
                        // The network side is behind: the next frame must stand alone.
                        shared.force_keyframe.store(true, Ordering::Relaxed);
                    }
                }
            }
        })
        .map_err(|e| MediaError::WebRtc(format!("starting the camera thread: {e}")))?;
    let task_shared = shared.clone();
    shared.spawn(async move {
        let shared = task_shared;
        if !connected(&shared).await {
            return;
        }
        let Some(pt) = payload_type(&sender).await else { return };
        let Some(ssrc) = track.ssrcs().await.first().copied() else { return };
        while let Some(frame) = rx.recv().await {
            let sample = Sample { data: Bytes::from(frame.data), duration: interval, ..Sample::new(Instant::now()) };
            if track.sample_writer(ssrc, pt).write_sample(&sample).await.is_ok() {
                bump(&shared.counters.video_sent, 1);
            }
        }
    });
    Ok(())
}
