//! Thumbnails.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ImageFormat, ImageReader, Limits};

use crate::MediaError;

/// The longest side of a thumbnail, in pixels.
pub const THUMBNAIL_SIDE: u32 = 320;
/// The largest thumbnail, in bytes (one blob chunk).
pub const MAX_THUMBNAIL_BYTES: usize = 256 * 1024;
/// The largest image decoded, per side.
pub const MAX_SIDE: u32 = 16_384;
/// The most memory one decode may take.
pub const MAX_DECODE_BYTES: u64 = 512 << 20;

/// An encoded thumbnail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    pub bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
    /// `image/jpeg` or `image/png`.
    pub mime: &'static str,
}

/// What an image is, and its thumbnail (`None` when the image is already small enough to
/// show as it is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInfo {
    pub width: u32,
    pub height: u32,
    pub format: &'static str,
    pub thumbnail: Option<Encoded>,
}

fn format_name(f: ImageFormat) -> Option<&'static str> {
    Some(match f {
        ImageFormat::Png => "png",
        ImageFormat::Jpeg => "jpeg",
        ImageFormat::Gif => "gif",
        ImageFormat::WebP => "webp",
        _ => return None,
    })
}

/// Decodes an image (first frame of an animation) and makes its thumbnail.
pub fn thumbnail(bytes: &[u8]) -> Result<ImageInfo, MediaError> {
    let bad = |e: &dyn std::fmt::Display| MediaError::Image(e.to_string());
    let mut reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|e| bad(&e))?;
    let format = reader.format().and_then(format_name).ok_or_else(|| MediaError::Image("unknown format".into()))?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let image = reader.decode().map_err(|e| bad(&e))?;
    let (width, height) = (image.width(), image.height());
    if width == 0 || height == 0 {
        return Err(MediaError::Image("the image has no pixels".into()));
    }
    let small = width <= THUMBNAIL_SIDE && height <= THUMBNAIL_SIDE && bytes.len() <= MAX_THUMBNAIL_BYTES;
    let thumbnail = if small { None } else { encode_thumbnail(&image.thumbnail(THUMBNAIL_SIDE, THUMBNAIL_SIDE)) };
    Ok(ImageInfo { width, height, format, thumbnail })
}

fn encode_thumbnail(thumb: &DynamicImage) -> Option<Encoded> {
    let (width, height) = (thumb.width(), thumb.height());
    if thumb.color().has_alpha() {
        let mut out = Cursor::new(Vec::new());
        if thumb.write_to(&mut out, ImageFormat::Png).is_ok() && out.get_ref().len() <= MAX_THUMBNAIL_BYTES {
            return Some(Encoded { bytes: out.into_inner(), width, height, mime: "image/png" });
        }
    }
    // JPEG: transparency is flattened (on black); quality drops until it fits.
    let rgb = thumb.to_rgb8();
    for quality in [80, 60, 40] {
        let mut out = Vec::new();
        if JpegEncoder::new_with_quality(&mut out, quality).encode_image(&rgb).is_ok()
            && out.len() <= MAX_THUMBNAIL_BYTES
        {
            return Some(Encoded { bytes: out, width, height, mime: "image/jpeg" });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage, Rgba, RgbaImage};
    use proptest::prelude::*;

    fn encode(image: DynamicImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        image.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    #[test]
    fn big_images_get_a_small_thumbnail_in_every_format() {
        let photo = RgbImage::from_fn(1200, 800, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
        for format in [ImageFormat::Png, ImageFormat::Jpeg, ImageFormat::Gif, ImageFormat::WebP] {
            let bytes = encode(DynamicImage::ImageRgb8(photo.clone()), format);
            let info = thumbnail(&bytes).unwrap_or_else(|e| panic!("{format:?}: {e}"));
            assert_eq!((info.width, info.height), (1200, 800));
            let t = info.thumbnail.expect("a thumbnail");
            assert_eq!((t.width, t.height), (320, 213));
            assert!(t.bytes.len() <= MAX_THUMBNAIL_BYTES);
            let back = image::load_from_memory(&t.bytes).unwrap();
            assert_eq!(back.width(), 320);
        }
        let clear = RgbaImage::from_fn(640, 640, |x, _| Rgba([255, 0, 0, (x % 256) as u8]));
        let info = thumbnail(&encode(DynamicImage::ImageRgba8(clear), ImageFormat::Png)).unwrap();
        assert_eq!(info.thumbnail.unwrap().mime, "image/png");
    }

    #[test]
    fn small_images_need_no_thumbnail_and_garbage_is_refused() {
        let icon = RgbImage::from_pixel(32, 32, Rgb([1, 2, 3]));
        let info = thumbnail(&encode(DynamicImage::ImageRgb8(icon), ImageFormat::Png)).unwrap();
        assert!(info.thumbnail.is_none());
        assert!(thumbnail(b"not an image at all").is_err());
        let png = encode(DynamicImage::ImageRgb8(RgbImage::new(400, 400)), ImageFormat::Png);
        for len in [8, 33, png.len() / 2] {
            assert!(thumbnail(&png[..len]).is_err(), "truncated to {len}");
        }
    }

    #[test]
    fn a_huge_declared_size_is_refused_before_decoding() {
        // A PNG header claiming 100,000 × 100,000 pixels.
        let mut png = encode(DynamicImage::ImageRgb8(RgbImage::new(1, 1)), ImageFormat::Png);
        png[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        png[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        assert!(thumbnail(&png).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
        #[test]
        fn decoding_any_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600), magic in 0usize..4) {
            let prefixes: [&[u8]; 4] = [b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF89a", b"RIFF\0\0\0\0WEBPVP8 "];
            let _ = thumbnail(&[prefixes[magic], &bytes].concat());
        }
    }
}
