//! Workspace member package; see the README.
