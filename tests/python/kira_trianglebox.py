"""The triangle-box family written as a Kira config directory (integralfamilies.yaml and
kinematics.yaml in Kira's own format), shared by the family and command-line tests."""

KIRA_FAMILIES = """\
integralfamilies:
  - name: "trianglebox"
    loop_momenta: [k1, k2]
    top_level_sectors: [63]
    propagators:
      - [ "k1", 0 ]
      - [ "k2", 0 ]
      - [ "k1+k2", 0 ]
      - [ "k1+p1", 0 ]
      - [ "k2+p3", 0 ]
      - [ "k2-p1", 0 ]
      - [ "k1+p3", 0 ]
"""

KIRA_KINEMATICS = """\
kinematics:
  incoming_momenta: [p1, p2]
  outgoing_momenta: [p3]
  momentum_conservation: [p3, p1+p2]
  kinematic_invariants:
    - [m1, 2]
    - [m2, 2]
    - [m3, 2]
  scalarproduct_rules:
    - [[p1,p1], m1]
    - [[p2,p2], m2]
    - [[p3,p3], m3]
  symbol_to_replace_by_one: m1
"""
