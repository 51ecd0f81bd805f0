//! TODO(helper A): the breakdown on every meminfo fixture.
