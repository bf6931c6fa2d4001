//! The commands the UI may invoke (`ui/src/lib/backend/` is their only caller). Each is one
//! line of wiring; they are `async` so that store reads never run on the window's thread.

use tauri::State;

use crate::error::AppError;
use crate::state::AppState;
use crate::transport::PersonView;

/// The person this device belongs to, or `None` before a profile was created.
#[tauri::command]
pub async fn local_profile(state: State<'_, AppState>) -> Result<Option<PersonView>, AppError> {
    Ok(state.store()?.local_profile()?.map(PersonView::from))
}
