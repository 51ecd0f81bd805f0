//! The table's layout rules, checked without the renderer's code.

pub const RIGHT_ALIGNED: [bool; 10] = [
    false, true, true, true, true, true, false, false, false, true,
];

/// Checks a rendered table against docs/log-format.md without using the renderer's code: one line per
/// row, no control characters, no trailing blanks, right-aligned numbers ending in one column,
/// left-aligned text starting in one column, columns as wide as their widest cell and one space
/// apart, COMMAND starting in one column. Returns each line's ten cells and its COMMAND.
pub fn check_table(text: &str) -> Vec<(Vec<String>, String)> {
    let lines: Vec<&str> = text.lines().collect();
    assert!(!lines.is_empty());
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(
        header,
        [
            "USER", "PID", "%CPU", "%MEM", "VSZ", "RSS", "TTY", "STAT", "START", "TIME", "COMMAND"
        ]
    );

    // (start, end) in characters of each of the first ten cells, and where COMMAND starts.
    let mut spans: Vec<([(usize, usize); 10], usize)> = Vec::new();
    let mut parsed = Vec::new();
    for line in &lines {
        assert!(
            !line.chars().any(char::is_control),
            "control character in {line:?}"
        );
        assert!(!line.ends_with(' '), "trailing blank in {line:?}");
        let chars: Vec<char> = line.chars().collect();
        let mut cells = [(0, 0); 10];
        let mut i = 0;
        for cell in cells.iter_mut() {
            while i < chars.len() && chars[i] == ' ' {
                i += 1;
            }
            let start = i;
            while i < chars.len() && chars[i] != ' ' {
                i += 1;
            }
            assert!(i > start, "fewer than ten cells in {line:?}");
            *cell = (start, i);
        }
        let command_start = i + 1;
        let text_of = |(s, e): (usize, usize)| chars[s..e].iter().collect::<String>();
        parsed.push((
            cells.iter().map(|&c| text_of(c)).collect(),
            chars
                .get(command_start..)
                .map_or(String::new(), |c| c.iter().collect()),
        ));
        spans.push((cells, command_start));
    }
    for column in 0..10 {
        let width = spans
            .iter()
            .map(|(c, _)| c[column].1 - c[column].0)
            .max()
            .unwrap();
        let edges: Vec<usize> = spans
            .iter()
            .map(|(c, _)| {
                if RIGHT_ALIGNED[column] {
                    c[column].1
                } else {
                    c[column].0
                }
            })
            .collect();
        assert!(
            edges.windows(2).all(|w| w[0] == w[1]),
            "column {column} is not aligned: {edges:?}"
        );
        let (start, end) = if RIGHT_ALIGNED[column] {
            (edges[0] - width, edges[0])
        } else {
            (edges[0], edges[0] + width)
        };
        if column == 0 {
            assert_eq!(start, 0, "the table starts in column 0");
        } else {
            let previous = &spans[0].0[column - 1];
            let previous_width = spans
                .iter()
                .map(|(c, _)| c[column - 1].1 - c[column - 1].0)
                .max()
                .unwrap();
            let previous_end = if RIGHT_ALIGNED[column - 1] {
                previous.1
            } else {
                previous.0 + previous_width
            };
            assert_eq!(
                start,
                previous_end + 1,
                "column {column} is not one space after column {}",
                column - 1
            );
        }
        if column == 9 {
            for (line, (_, command_start)) in lines.iter().zip(&spans) {
                if line.chars().count() > end {
                    assert_eq!(*command_start, end + 1, "COMMAND misplaced in {line:?}");
                }
            }
        }
    }
    parsed
}
