//! `pioneer serve`: the classroom, a live tournament in the browser where students play the units.
//! The game is `classroom`; the server (axum, WebSockets) only schedules it.

pub mod classroom;
