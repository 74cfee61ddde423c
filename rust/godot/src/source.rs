//! Reading script source through Godot, so `res://` works in the editor, in a running game
//! and inside an exported pack alike.

use godot::classes::FileAccess;
use godot::classes::file_access::ModeFlags;
use lua_runtime_core::Error;

/// The text of the script at `path`.
///
/// # Errors
/// [`Error::ScriptNotFound`] when there is no such file, [`Error::ScriptUnreadable`] when
/// Godot cannot open it.
pub fn read(path: &str) -> Result<String, Error> {
    if !FileAccess::file_exists(path) {
        return Err(Error::ScriptNotFound {
            path: path.to_owned(),
        });
    }
    let Some(file) = FileAccess::open(path, ModeFlags::READ) else {
        return Err(Error::ScriptUnreadable {
            path: path.to_owned(),
            reason: format!("{:?}", FileAccess::get_open_error()),
        });
    };
    Ok(file.get_as_text().to_string())
}
