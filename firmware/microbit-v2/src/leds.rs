//! What the 5x5 LED matrix shows: the predicted class, and a corner dot while a
//! button gives a label.

/// Rest: a flat line.
const REST: [[u8; 5]; 5] = [
    [0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0],
    [1, 1, 1, 1, 1],
    [0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0],
];

/// Walk: a slow wave.
const WALK: [[u8; 5]; 5] = [
    [0, 0, 0, 0, 0],
    [0, 1, 0, 0, 0],
    [1, 0, 1, 0, 1],
    [0, 0, 0, 1, 0],
    [0, 0, 0, 0, 0],
];

/// Shake: a zigzag.
const SHAKE: [[u8; 5]; 5] = [
    [1, 0, 0, 0, 1],
    [0, 1, 0, 1, 0],
    [0, 0, 1, 0, 0],
    [0, 1, 0, 1, 0],
    [1, 0, 0, 0, 1],
];

/// The image of a predicted class; with `labelling`, the top-left LED is lit as well.
pub fn image(class: usize, labelling: bool) -> [[u8; 5]; 5] {
    let mut img = match class {
        0 => REST,
        1 => WALK,
        _ => SHAKE,
    };
    if labelling {
        img[0][0] = 1;
    }
    img
}
