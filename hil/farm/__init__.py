"""Board farms through labgrid: places, reservations and the benches behind them.

labgrid's coordinator decides who may use which board; hil asks it for a
place (``--place``) or for places matching tags (``--reserve``), reads each
place's resources into a ``Bench`` (UART URL, probe server, board id), and
releases everything on the way out. Only ``labgrid_api`` imports labgrid.
"""
