"""IPC-CFX (IPC-2591) as a first-class way in (issue 21): envelopes, their event types, the
built-in meaning of `{"format": "CFX"}` steps, and the receiver both transports call."""
