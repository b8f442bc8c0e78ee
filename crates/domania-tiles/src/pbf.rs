//! The protobuf wire format, as much of it as vector tiles use: varints, zigzag, fixed 32/64,
//! length-delimited fields. Reading never trusts a length: every one is checked against what is
//! left, so a hostile tile cannot make the reader allocate or read past its end.

/// A wire-format error: where in the buffer, and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("byte {at}: {what}")]
pub struct WireError {
    pub at: usize,
    pub what: &'static str,
}

/// A field's wire type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    Varint,
    Fixed64,
    Len,
    Fixed32,
}

/// A protobuf message being read.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Offset of `buf` in the whole tile, for error positions.
    base: usize,
}

impl<'a> Reader<'a> {
    #[must_use]
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0, base: 0 }
    }

    fn err(&self, what: &'static str) -> WireError {
        WireError { at: self.base + self.pos, what }
    }

    #[must_use]
    pub fn at_end(&self) -> bool {
        self.pos >= self.buf.len()
    }

    pub fn varint(&mut self) -> Result<u64, WireError> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let Some(&b) = self.buf.get(self.pos) else { return Err(self.err("truncated varint")) };
            self.pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(self.err("varint longer than 10 bytes"))
    }

    /// The next field: its number and wire type; `None` at the end.
    pub fn field(&mut self) -> Result<Option<(u32, Wire)>, WireError> {
        if self.at_end() {
            return Ok(None);
        }
        let key = self.varint()?;
        let wire = match key & 7 {
            0 => Wire::Varint,
            1 => Wire::Fixed64,
            2 => Wire::Len,
            5 => Wire::Fixed32,
            _ => return Err(self.err("unknown wire type")),
        };
        let number = u32::try_from(key >> 3).map_err(|_| self.err("field number too large"))?;
        Ok(Some((number, wire)))
    }

    /// A length-delimited field's bytes, as a reader of their own.
    pub fn message(&mut self) -> Result<Reader<'a>, WireError> {
        let len = self.varint()?;
        let len = usize::try_from(len).map_err(|_| self.err("length too large"))?;
        if len > self.buf.len() - self.pos {
            return Err(self.err("length past the end of the message"));
        }
        let r = Reader { buf: &self.buf[self.pos..self.pos + len], pos: 0, base: self.base + self.pos };
        self.pos += len;
        Ok(r)
    }

    pub fn bytes(&mut self) -> Result<&'a [u8], WireError> {
        let m = self.message()?;
        Ok(m.buf)
    }

    pub fn fixed32(&mut self) -> Result<[u8; 4], WireError> {
        let b = self.buf.get(self.pos..self.pos + 4).ok_or_else(|| self.err("truncated fixed32"))?;
        self.pos += 4;
        Ok([b[0], b[1], b[2], b[3]])
    }

    pub fn fixed64(&mut self) -> Result<[u8; 8], WireError> {
        let b = self.buf.get(self.pos..self.pos + 8).ok_or_else(|| self.err("truncated fixed64"))?;
        self.pos += 8;
        let mut out = [0u8; 8];
        out.copy_from_slice(b);
        Ok(out)
    }

    /// Skips a field of an unknown number.
    pub fn skip(&mut self, wire: Wire) -> Result<(), WireError> {
        match wire {
            Wire::Varint => self.varint().map(|_| ()),
            Wire::Fixed64 => self.fixed64().map(|_| ()),
            Wire::Fixed32 => self.fixed32().map(|_| ()),
            Wire::Len => self.message().map(|_| ()),
        }
    }

    /// The packed varints of a length-delimited field.
    pub fn packed(&mut self) -> Result<Vec<u64>, WireError> {
        let mut m = self.message()?;
        // At most one value per byte: the allocation is bounded by the field's real length.
        let mut out = Vec::with_capacity(m.buf.len().min(1 << 20));
        while !m.at_end() {
            out.push(m.varint()?);
        }
        Ok(out)
    }
}

/// A protobuf message being written.
#[derive(Debug, Default, Clone)]
pub struct Writer {
    pub buf: Vec<u8>,
}

impl Writer {
    pub fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
    }

    fn key(&mut self, number: u32, wire: u8) {
        self.varint(u64::from(number) << 3 | u64::from(wire));
    }

    pub fn uint(&mut self, number: u32, v: u64) {
        self.key(number, 0);
        self.varint(v);
    }

    pub fn bytes(&mut self, number: u32, b: &[u8]) {
        self.key(number, 2);
        self.varint(b.len() as u64);
        self.buf.extend_from_slice(b);
    }

    pub fn double(&mut self, number: u32, v: f64) {
        self.key(number, 1);
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub fn packed(&mut self, number: u32, values: &[u32]) {
        self.key(number, 2);
        self.varint(values.iter().map(|&v| varint_len(u64::from(v))).sum::<usize>() as u64);
        for &v in values {
            self.varint(u64::from(v));
        }
    }
}

/// The bytes a varint takes.
#[must_use]
pub fn varint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

/// Zigzag encoding of a signed delta.
#[must_use]
pub fn zigzag(v: i32) -> u32 {
    ((v << 1) ^ (v >> 31)) as u32
}

/// Its inverse.
#[must_use]
pub fn unzigzag(v: u32) -> i32 {
    ((v >> 1) as i32) ^ -((v & 1) as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_and_zigzag_round_trip_and_lengths_are_checked() {
        let mut w = Writer::default();
        for v in [0u64, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            w.varint(v);
        }
        let mut r = Reader::new(&w.buf);
        for v in [0u64, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            assert_eq!(r.varint().unwrap(), v);
        }
        for v in [0, 1, -1, 2047, -2048, i32::MAX, i32::MIN] {
            assert_eq!(unzigzag(zigzag(v)), v);
        }
        // A length that runs past the end is an error, not a read past it.
        let mut r = Reader::new(&[0x0a, 0xff, 0x01, 0x00]);
        assert_eq!(r.field().unwrap(), Some((1, Wire::Len)));
        assert!(r.message().is_err());
    }
}
