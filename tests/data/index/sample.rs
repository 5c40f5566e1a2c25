use std::collections::HashMap;

/// A stack of things.
#[derive(Debug)]
pub struct Stack<T> {
    items: Vec<T>,
}

impl<T> Stack<T> {
    /// Push an item.
    pub fn push(&mut self, item: T) {
        self.items.push(item);
    }
}

pub trait Shape {
    fn area(&self) -> f64;
}

/// Parse a number.
pub fn parse(input: &str) -> Result<i64, String> {
    Ok(0)
}

pub const LIMIT: usize = 64;
