//! Stands for the fork's code.
