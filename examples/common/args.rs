//! A tiny `--flag value` parser shared by the examples (via `#[path]`), so
//! each example lists its options in one line and none needs a CLI crate.
//! Not every example uses every method.
#![allow(dead_code)]

use std::collections::HashMap;
use std::str::FromStr;

/// Parsed `--name value` pairs; positional arguments are kept in order.
pub struct Args {
    flags: HashMap<String, String>,
    pub positional: Vec<String>,
}

impl Args {
    /// Parses `std::env::args()`. `usage` is printed for `--help`.
    pub fn parse(usage: &str) -> Args {
        let mut flags = HashMap::new();
        let mut positional = Vec::new();
        let mut args = std::env::args().skip(1).peekable();
        while let Some(arg) = args.next() {
            if arg == "--help" || arg == "-h" {
                println!("{usage}");
                std::process::exit(0);
            }
            match arg.strip_prefix("--") {
                Some(name) => {
                    // A flag followed by nothing or by another flag is a
                    // switch (`--tls`): it reads as `true`.
                    let value = match args.peek() {
                        Some(next) if !next.starts_with("--") => args.next().unwrap(),
                        _ => "true".to_owned(),
                    };
                    flags.insert(name.to_owned(), value);
                }
                None => positional.push(arg),
            }
        }
        Args { flags, positional }
    }

    /// The value of `--name`, or `default`. Exits with a message if the
    /// value does not parse.
    pub fn get<T: FromStr>(&self, name: &str, default: T) -> T {
        self.get_opt(name).unwrap_or(default)
    }

    /// The value of `--name`, if given. Exits with a message if the value
    /// does not parse.
    pub fn get_opt<T: FromStr>(&self, name: &str) -> Option<T> {
        let value = self.flags.get(name)?;
        Some(value.parse().unwrap_or_else(|_| {
            eprintln!("--{name}: cannot parse {value:?}");
            std::process::exit(2);
        }))
    }
}
