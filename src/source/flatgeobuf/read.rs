//! Reading features: runs of consecutive features in one positional read, decoded into
//! [`Feature`]s with only the columns asked for.

use super::decode::{decode_geometry, decode_properties, instant_of, value_text};
use super::ids::{IdIndex, id_hash};
use super::{FlatGeobuf, corrupt};
use crate::source::{Cancel, Feature, FeatureId, FieldType, SourceError, Value};
use crate::temporal::Interval;
use std::collections::HashSet;
use std::os::unix::fs::FileExt;
use std::sync::OnceLock;

impl FlatGeobuf {
    pub(super) fn check_unchanged(&self) -> Result<(), SourceError> {
        let meta = self.file.metadata().map_err(|source| SourceError::Io {
            path: self.path.clone(),
            source,
        })?;
        if super::Fingerprint::of(&meta) != self.fingerprint {
            return Err(SourceError::Changed {
                path: self.path.clone(),
            });
        }
        Ok(())
    }

    /// Bytes of features `first..=last` (consecutive in the file) in one read.
    pub(super) fn read_run(&self, first: usize, last: usize) -> Result<Vec<u8>, SourceError> {
        let mut buf = Vec::new();
        self.read_run_into(first, last, &mut buf)?;
        Ok(buf)
    }

    /// Bytes of features `first..=last` into `buf` (reused between runs, so a long scan
    /// zeroes and maps fresh memory only when a run is longer than any before).
    pub(super) fn read_run_into(
        &self,
        first: usize,
        last: usize,
        buf: &mut Vec<u8>,
    ) -> Result<(), SourceError> {
        let start = self.slots[first].offset;
        let end = self.slots[last].offset + self.slots[last].len as u64;
        buf.resize((end - start) as usize, 0);
        self.file
            .read_exact_at(buf, self.data_start + start)
            .map_err(|e| {
                if e.kind() == std::io::ErrorKind::UnexpectedEof {
                    corrupt(&self.path, "the file ends inside a feature (truncated?)")
                } else {
                    SourceError::Io {
                        path: self.path.clone(),
                        source: e,
                    }
                }
            })
    }

    pub(super) fn read_feature(&self, i: usize) -> Result<Feature, SourceError> {
        let buf = self.read_run(i, i)?;
        self.decode(i, &buf, true, None)
    }

    /// Decodes one size-prefixed feature buffer; the geometry stays in the storage CRS.
    /// With `columns`, only the columns marked true are decoded (the others read as null).
    pub(super) fn decode(
        &self,
        i: usize,
        buf: &[u8],
        with_geometry: bool,
        columns: Option<&[bool]>,
    ) -> Result<Feature, SourceError> {
        let fb = ::flatgeobuf::size_prefixed_root_as_feature(buf)
            .map_err(|e| corrupt(&self.path, format!("feature {i}: {e}")))?;
        let properties = match fb.properties() {
            Some(bytes) => decode_properties(bytes.bytes(), &self.columns, columns)
                .map_err(|e| corrupt(&self.path, format!("feature {i}: {e}")))?,
            None => vec![Value::Null; self.columns.len()],
        };
        let geometry = if with_geometry {
            match fb.geometry() {
                Some(g) => decode_geometry(&g, self.header_geometry)
                    .map_err(|e| corrupt(&self.path, format!("feature {i}: {e}")))?,
                None => None,
            }
        } else {
            None
        };
        let id = match self.id_field {
            None => FeatureId::Int(i as u64),
            Some(f) => match &properties[f] {
                Value::Int(v) if *v >= 0 => FeatureId::Int(*v as u64),
                Value::Null => FeatureId::Int(i as u64),
                other => FeatureId::String(value_text(other)),
            },
        };
        Ok(Feature {
            id,
            geometry,
            properties,
        })
    }

    /// A column mask with `columns` set.
    pub(super) fn mask(&self, columns: impl IntoIterator<Item = usize>) -> Vec<bool> {
        let mut m = vec![false; self.columns.len()];
        for c in columns {
            m[c] = true;
        }
        m
    }

    /// The feature as published: geometry in CRS84.
    pub(super) fn published(&self, mut f: Feature) -> Result<Feature, SourceError> {
        if let Some(g) = f.geometry.as_mut() {
            self.to_crs84.geometry(g)?;
        }
        // Coordinates outside the CRS's domain may project to no number.
        f.geometry = f.geometry.filter(super::decode::finite);
        Ok(f)
    }

    /// Visits features `indices` (ascending) with their decoded contents, reading each
    /// consecutive run with a single read.
    pub(super) fn for_each(
        &self,
        indices: &[u32],
        with_geometry: bool,
        columns: Option<&[bool]>,
        cancel: &Cancel,
        mut visit: impl FnMut(u32, Feature) -> Result<(), SourceError>,
    ) -> Result<(), SourceError> {
        let mut k = 0;
        let mut buf = Vec::new();
        while k < indices.len() {
            cancel.check()?;
            let mut j = k;
            // Cap a run at a few MB so a huge page never needs one giant buffer.
            while j + 1 < indices.len()
                && indices[j + 1] == indices[j] + 1
                && self.slots[indices[j + 1] as usize].offset
                    - self.slots[indices[k] as usize].offset
                    < 4 << 20
            {
                j += 1;
            }
            let (first, last) = (indices[k] as usize, indices[j] as usize);
            self.read_run_into(first, last, &mut buf)?;
            let base = self.slots[first].offset;
            for i in first..=last {
                let s = self.slots[i];
                let lo = (s.offset - base) as usize;
                let f = self.decode(i, &buf[lo..lo + s.len as usize], with_geometry, columns)?;
                visit(i as u32, f)?;
            }
            k = j + 1;
        }
        Ok(())
    }

    pub(super) fn feature_time(&self, f: &Feature) -> Option<Interval> {
        let (s, e) = self.temporal?;
        let start = instant_of(&f.properties[s], false);
        let end = match e {
            Some(e) => instant_of(&f.properties[e], true),
            None => start,
        };
        if start.is_none() && end.is_none() {
            return None;
        }
        Some(Interval { start, end })
    }

    pub(super) fn scan_temporal_extent(&self) -> Result<Option<Interval>, SourceError> {
        let all: Vec<u32> = (0..self.slots.len() as u32).collect();
        let (mut lo, mut hi): (Option<i64>, Option<i64>) = (None, None);
        let mut open_end = false;
        let mask = self.mask(
            self.temporal
                .iter()
                .flat_map(|&(s, e)| std::iter::once(s).chain(e)),
        );
        self.for_each(&all, false, Some(&mask), &Cancel::never(), |_, f| {
            if let Some(t) = self.feature_time(&f) {
                if let Some(s) = t.start {
                    lo = Some(lo.map_or(s, |l| l.min(s)));
                }
                match t.end {
                    Some(e) => hi = Some(hi.map_or(e, |h| h.max(e))),
                    None => open_end = true,
                }
            }
            Ok(())
        })?;
        if lo.is_none() && hi.is_none() {
            return Ok(None);
        }
        Ok(Some(Interval {
            start: lo,
            end: if open_end { None } else { hi },
        }))
    }

    /// Takes column `name` (any letter case) as the feature id if every feature has a value
    /// in it, integers from 0 or strings, and no two are equal. The scan that checks it builds
    /// the id index, kept.
    pub(super) fn adopt_unique_id(&mut self, name: &str) -> Result<(), SourceError> {
        let Some(field) = self.info.fields.iter().position(|f| {
            f.name.eq_ignore_ascii_case(name)
                && matches!(f.kind, FieldType::Integer | FieldType::String)
        }) else {
            return Ok(());
        };
        let Some(index) = self.scan_ids(field, true)? else {
            return Ok(());
        };
        // Equal ids share a hash: compare the values where hashes repeat.
        for run in index.shared_hashes() {
            let mut seen = HashSet::new();
            for &slot in run {
                let f = self.read_feature(slot as usize)?;
                if !seen.insert(value_text(&f.properties[field])) {
                    return Ok(());
                }
            }
        }
        self.id_field = Some(field);
        self.info.id_field = Some(field);
        self.id_lookup = OnceLock::from(Ok(index));
        Ok(())
    }

    /// The id index of column `field`; with `strict`, None as soon as a feature has no value
    /// there, or one that is not an integer from 0 or a string.
    fn scan_ids(&self, field: usize, strict: bool) -> Result<Option<IdIndex>, SourceError> {
        let all: Vec<u32> = (0..self.slots.len() as u32).collect();
        let mut pairs = Vec::with_capacity(all.len());
        let mut fit = true;
        let mask = self.mask([field]);
        let scan = self.for_each(&all, false, Some(&mask), &Cancel::never(), |i, f| {
            let v = &f.properties[field];
            fit = !strict || matches!(v, Value::Int(n) if *n >= 0) || matches!(v, Value::String(_));
            if !fit {
                return Err(SourceError::Cancelled);
            }
            pairs.push((id_hash(&value_text(v)), i));
            Ok(())
        });
        match scan {
            Ok(()) => Ok(Some(IdIndex::new(pairs))),
            Err(SourceError::Cancelled) if !fit => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The first feature whose id property is `id` (read once: the comparison reads it).
    pub(super) fn feature_with_id(&self, id: &str) -> Result<Option<Feature>, SourceError> {
        let field = self.id_field.expect("called only with an id property");
        // Built whole even if the request that asked leaves: it serves every later one.
        let built = self
            .id_lookup
            .get_or_init(|| match self.scan_ids(field, false) {
                Ok(index) => Ok(index.unwrap_or_default()),
                Err(e) => Err(e.to_string()),
            });
        let index = built.as_ref().map_err(|e| corrupt(&self.path, e.clone()))?;
        for &slot in index.candidates(id) {
            let f = self.read_feature(slot as usize)?;
            if value_text(&f.properties[field]) == id {
                return Ok(Some(f));
            }
        }
        Ok(None)
    }
}
