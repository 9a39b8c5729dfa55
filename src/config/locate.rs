//! Maps key paths (`policy.rules[3].when`) to where they stand in the YAML text, so
//! every config error can say file:line:col. serde_yaml's `Value` keeps no positions,
//! so the text is walked once more with yaml-rust2's event parser.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// Line and column, both 1-based.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

#[derive(Debug, Default)]
pub struct PathIndex {
    positions: HashMap<String, Pos>,
}

/// A YAML syntax error with its position.
#[derive(Debug)]
pub struct SyntaxError {
    pub pos: Pos,
    pub message: String,
}

impl PathIndex {
    pub fn build(text: &str) -> Result<PathIndex, SyntaxError> {
        let mut rx = Receiver::default();
        let mut parser = Parser::new_from_str(text);
        parser.load(&mut rx, false).map_err(|e| SyntaxError {
            pos: to_pos(e.marker()),
            message: e.info().to_string(),
        })?;
        Ok(PathIndex {
            positions: rx.positions,
        })
    }

    /// The position of `path`, or of its nearest ancestor that has one.
    pub fn find(&self, path: &str) -> Option<Pos> {
        let mut p = path;
        loop {
            if let Some(pos) = self.positions.get(p) {
                return Some(*pos);
            }
            let cut = p.rfind(['.', '['])?;
            p = &p[..cut];
        }
    }
}

fn to_pos(m: &Marker) -> Pos {
    // yaml-rust2 lines are 1-based and columns 0-based.
    Pos {
        line: m.line().max(1),
        col: m.col() + 1,
    }
}

enum Frame {
    Map {
        path: String,
        key: Option<String>,
        /// A mapping that is a sequence item takes its first key's position: the
        /// parser's MappingStart mark lies past that key.
        item: Option<String>,
    },
    Seq {
        path: String,
        index: usize,
    },
}

#[derive(Default)]
struct Receiver {
    stack: Vec<Frame>,
    positions: HashMap<String, Pos>,
}

impl Receiver {
    /// Called at the start of every node: returns the node's path, recording the
    /// position of sequence items (mapping keys record theirs when seen).
    fn node_path(&mut self, mark: &Marker, is_map: bool) -> (Option<String>, Option<String>) {
        match self.stack.last_mut() {
            None => (Some(String::new()), None),
            Some(Frame::Map { path, key, .. }) => (key.take().map(|k| join_key(path, &k)), None),
            Some(Frame::Seq { path, index }) => {
                let p = format!("{path}[{index}]");
                *index += 1;
                if is_map {
                    return (Some(p.clone()), Some(p));
                }
                self.positions.entry(p.clone()).or_insert(to_pos(mark));
                (Some(p), None)
            }
        }
    }
}

fn join_key(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

impl MarkedEventReceiver for Receiver {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        match ev {
            Event::Scalar(value, ..) => {
                if let Some(Frame::Map { path, key, item }) = self.stack.last_mut() {
                    if key.is_none() {
                        let pos = to_pos(&mark);
                        if let Some(item) = item.take() {
                            self.positions.entry(item).or_insert(pos);
                        }
                        let p = join_key(path, &value);
                        self.positions.entry(p).or_insert(pos);
                        *key = Some(value);
                        return;
                    }
                }
                self.node_path(&mark, false);
            }
            Event::Alias(_) => {
                self.node_path(&mark, false);
            }
            Event::MappingStart(..) => {
                let (path, item) = self.node_path(&mark, true);
                self.stack.push(Frame::Map {
                    path: path.unwrap_or_default(),
                    key: None,
                    item,
                });
            }
            Event::SequenceStart(..) => {
                let path = self.node_path(&mark, false).0.unwrap_or_default();
                self.stack.push(Frame::Seq { path, index: 0 });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_keys_and_items() {
        let text = "listen: 1.2.3.4:5\npolicy:\n  rules:\n    - name: a\n      action: block\n    - name: b\n      when:\n        classes: [hk_id, x]\n";
        let idx = PathIndex::build(text).unwrap();
        assert_eq!(idx.find("listen"), Some(Pos { line: 1, col: 1 }));
        assert_eq!(idx.find("policy.rules[1]"), Some(Pos { line: 6, col: 7 }));
        assert_eq!(
            idx.find("policy.rules[1].when"),
            Some(Pos { line: 7, col: 7 })
        );
        assert_eq!(
            idx.find("policy.rules[1].when.classes[1]"),
            Some(Pos { line: 8, col: 26 })
        );
        // An unknown deeper path falls back to its nearest known ancestor.
        assert_eq!(
            idx.find("policy.rules[0].action.nope"),
            Some(Pos { line: 5, col: 7 })
        );
    }

    #[test]
    fn syntax_errors_have_positions() {
        let err = PathIndex::build("a: [1, 2\nb: c\n").unwrap_err();
        assert!(err.pos.line >= 1);
        assert!(!err.message.is_empty());
    }
}
