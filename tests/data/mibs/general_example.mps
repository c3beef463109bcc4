* The worked example of MibS's documentation (input.md), with a continuous follower: see
* README.md in this folder. Leader: min -x - 7y (x = C0, integer); follower: min y (y = C1).
NAME          general_example
ROWS
 N  R4
 L  R0
 L  R1
 L  R2
 L  R3
COLUMNS
    MARKER    'MARKER'                 'INTORG'
    C0        R0        -3
    C0        R1        1
    C0        R2        2
    C0        R3        -2
    C0        R4        -1
    MARKER    'MARKER'                 'INTEND'
    C1        R0        2
    C1        R1        2
    C1        R2        -1
    C1        R3        4
    C1        R4        -7
RHS
    B         R0        12
    B         R1        20
    B         R2        7
    B         R3        16
BOUNDS
 UP BOUND     C0        10
 UP BOUND     C1        5
ENDATA
