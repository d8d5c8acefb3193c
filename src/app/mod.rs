//! The running application: its settings, the state every request shares, and the background
//! refresh of the recent lists.

pub mod background;
pub mod settings;
pub mod state;
