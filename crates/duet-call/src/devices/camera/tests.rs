//! Choosing a mode from what a camera offers, and what a machine with no camera says.

use super::*;

fn mode(format: PixelFormat, width: u32, height: u32, fps: u32) -> CameraMode {
    CameraMode { format, width, height, max_fps: Some(fps) }
}

/// A typical USB 2 webcam: YUYV is smooth only at small sizes, MJPEG at all.
fn webcam() -> Vec<CameraMode> {
    vec![
        mode(PixelFormat::Yuyv, 640, 480, 30),
        mode(PixelFormat::Yuyv, 1280, 720, 10),
        mode(PixelFormat::Mjpeg, 640, 480, 30),
        mode(PixelFormat::Mjpeg, 1280, 720, 30),
        mode(PixelFormat::Mjpeg, 1920, 1080, 30),
    ]
}

#[test]
fn yuyv_is_taken_where_it_is_smooth_and_mjpeg_where_it_is_not() {
    assert_eq!(choose_mode("c", &webcam(), (640, 480)), Ok(mode(PixelFormat::Yuyv, 640, 480, 30)));
    assert_eq!(choose_mode("c", &webcam(), (1280, 720)), Ok(mode(PixelFormat::Mjpeg, 1280, 720, 30)));
}

#[test]
fn a_size_the_camera_lacks_falls_back_to_the_nearest() {
    let modes = vec![mode(PixelFormat::Yuyv, 320, 240, 30), mode(PixelFormat::Mjpeg, 1280, 800, 30)];
    assert_eq!(choose_mode("c", &modes, (1280, 720)), Ok(mode(PixelFormat::Mjpeg, 1280, 800, 30)));
    assert_eq!(choose_mode("c", &modes, (640, 480)), Ok(mode(PixelFormat::Yuyv, 320, 240, 30)));
    // Larger than a call carries is never chosen.
    let big = vec![mode(PixelFormat::Mjpeg, 3840, 2160, 30), mode(PixelFormat::Yuyv, 640, 480, 30)];
    assert_eq!(choose_mode("c", &big, (1280, 720)), Ok(mode(PixelFormat::Yuyv, 640, 480, 30)));
}

#[test]
fn a_slow_mode_is_taken_only_when_nothing_is_smooth() {
    let modes = vec![mode(PixelFormat::Yuyv, 1280, 720, 5), mode(PixelFormat::Yuyv, 640, 480, 7)];
    assert_eq!(choose_mode("c", &modes, (1280, 720)), Ok(mode(PixelFormat::Yuyv, 1280, 720, 5)));
}

#[test]
fn a_camera_with_neither_format_is_refused_in_words() {
    let modes = vec![mode(PixelFormat::Other("H264".into()), 1280, 720, 30)];
    assert_eq!(
        choose_mode("Integrated Webcam", &modes, (640, 480)),
        Err(DeviceError("The camera “Integrated Webcam” offers neither YUYV nor MJPEG".into()))
    );
    let huge = vec![mode(PixelFormat::Mjpeg, 3840, 2160, 30)];
    assert!(choose_mode("c", &huge, (640, 480)).is_err());
}

#[test]
fn nodes_that_are_not_capture_devices_are_left_out() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["video0", "video1", "videoX", "vbi0"] {
        std::fs::write(dir.path().join(name), b"not a device").unwrap();
    }
    assert_eq!(video_nodes(dir.path()).len(), 2);
    // Plain files answer no V4L2 query.
    assert_eq!(cameras_in(dir.path()), Vec::new());
    assert_eq!(cameras_in(&dir.path().join("missing")), Vec::new());
}

#[test]
fn with_no_camera_the_list_is_empty_and_opening_says_so() {
    let plugged_in = std::fs::read_dir("/dev")
        .map(|d| d.flatten().any(|e| e.file_name().to_string_lossy().starts_with("video")))
        .unwrap_or(false);
    let list = cameras();
    for camera in &list {
        assert!(camera.path.starts_with("/dev/video"), "{camera:?}");
    }
    if plugged_in {
        eprintln!("this machine has /dev/video nodes; the no-camera checks are skipped: {list:?}");
        return;
    }
    assert_eq!(list, Vec::new());
    let refusal = Camera::open(CameraChoice::default()).err().map(|e| e.to_string());
    assert_eq!(refusal.as_deref(), Some("No camera is plugged in"));
    let by_name = CameraChoice { device: Some("Integrated Webcam".into()), size: CameraSize::Hd };
    let refusal = Camera::open(by_name).err().map(|e| e.to_string());
    assert_eq!(refusal.as_deref(), Some("No camera called “Integrated Webcam” is plugged in"));
    let by_path = CameraChoice { device: Some("/dev/video7".into()), size: CameraSize::Sd };
    let refusal = Camera::open(by_path).err().map(|e| e.to_string());
    assert_eq!(refusal.as_deref(), Some("The camera “/dev/video7” is not plugged in"));
}
