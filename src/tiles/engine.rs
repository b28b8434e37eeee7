//! Tiles made by tessera's engine from feature sources: a [`TileSource`] over layers, each a
//! feature source with its [`Tiling`]. A tile is planned (no I/O), its layers' features are
//! awaited together, then encoded on the blocking pool. Dropping the future stops the reads;
//! an encoding already started finishes (it is bounded by the tile budget: milliseconds).

use super::encode::encode_layer;
use super::matrix::{TileCoord, TileMatrixSet};
use super::plan::{LayerPlan, plan_layer, query_box};
use super::source::{Compression, FollowedInfo, TileLayerInfo, TileSource, TileSourceInfo};
use super::{TileError, Tiling, kept, stand_in};
use crate::source::{Cancel, FeatureSource, FieldType, TileFeatures, blocking};
use bytes::Bytes;
use std::sync::Arc;

/// One MVT layer: its name, where its features come from and how they are cut.
#[derive(Debug, Clone)]
pub struct EngineLayer {
    pub name: String,
    pub title: String,
    pub source: Arc<dyn FeatureSource>,
    pub tiling: Tiling,
}

/// An encoded tile and what went into it.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    /// MVT bytes, in [`kept`] memory; empty when no layer has a feature here.
    pub bytes: Bytes,
    pub features: usize,
    /// Features read but not written: under a pixel once shaped, or over the budget.
    pub dropped: usize,
    /// Stand-ins written, and the features left out that they stand for.
    pub stand_ins: usize,
    pub stood_for: u64,
}

#[derive(Debug, Clone)]
pub struct EngineTiles {
    layers: Arc<[EngineLayer]>,
    info: Arc<FollowedInfo>,
}

/// The info of `layers` as their sources hold them now.
fn info_of(layers: &[EngineLayer]) -> TileSourceInfo {
    TileSourceInfo::of_layers(layers.iter().map(layer_info).collect(), Compression::None)
}

impl EngineTiles {
    pub fn new(layers: Vec<EngineLayer>) -> EngineTiles {
        let layers: Arc<[EngineLayer]> = layers.into();
        let revision = layers.iter().map(|l| l.source.revision()).sum();
        EngineTiles {
            info: Arc::new(FollowedInfo::new(revision, info_of(&layers))),
            layers,
        }
    }

    pub fn layers(&self) -> &[EngineLayer] {
        &self.layers
    }

    /// What to read for tile `coord`: each layer whose zoom range holds it, with its plan.
    pub fn plan(
        &self,
        tms: &TileMatrixSet,
        coord: TileCoord,
    ) -> Result<Vec<(usize, LayerPlan)>, TileError> {
        let mut plans = Vec::with_capacity(self.layers.len());
        for (i, l) in self.layers.iter().enumerate() {
            if let Some(p) = plan_layer(tms, coord, &l.tiling, &l.source.info().fields)? {
                plans.push((i, p));
            }
        }
        Ok(plans)
    }

    /// The tile from the features read for each planned layer, in the plan's order.
    pub fn encode(
        &self,
        tms: &TileMatrixSet,
        planned: &[(usize, LayerPlan)],
        features: &[TileFeatures],
    ) -> Result<Rendered, TileError> {
        let mut out = Rendered::default();
        let mut bytes = Vec::new();
        for ((i, plan), features) in planned.iter().zip(features) {
            let l = &self.layers[*i];
            let w = encode_layer(
                tms,
                plan,
                &l.name,
                &l.tiling,
                &l.source.info(),
                features,
                &mut bytes,
            )?;
            out.features += w.features;
            out.dropped += w.dropped;
            out.stand_ins += w.stand_ins;
            out.stood_for += w.stood_for;
        }
        // Copied here, on the thread that rendered, so the render's buffer is freed where it
        // was made.
        out.bytes = kept(&bytes);
        Ok(out)
    }

    /// Plans, reads and encodes tile `coord` with no runtime, when every layer's source has
    /// blocking reads ([`FeatureSource::blocking`]): for rayon workers, and for the blocking
    /// pool. `None` when some source has only async reads.
    pub fn render_blocking(
        &self,
        tms: &TileMatrixSet,
        coord: TileCoord,
        cancel: &Cancel,
    ) -> Option<Result<Rendered, TileError>> {
        let planned = match self.plan(tms, coord) {
            Ok(p) => p,
            Err(e) => return Some(Err(e)),
        };
        self.read_and_encode(tms, &planned, cancel)
    }

    fn read_and_encode(
        &self,
        tms: &TileMatrixSet,
        planned: &[(usize, LayerPlan)],
        cancel: &Cancel,
    ) -> Option<Result<Rendered, TileError>> {
        let mut features = Vec::with_capacity(planned.len());
        for (i, p) in planned {
            let reader = self.layers[*i].source.blocking()?;
            match reader.tile_features(&p.query, cancel) {
                Ok(f) => features.push(f),
                Err(e) => return Some(Err(e.into())),
            }
        }
        Some(self.encode(tms, planned, &features))
    }

    /// Plans, reads and encodes tile `coord`, with what went into it.
    pub async fn render(
        &self,
        tms: &TileMatrixSet,
        coord: TileCoord,
    ) -> Result<Rendered, TileError> {
        let planned = self.plan(tms, coord)?;
        if planned
            .iter()
            .all(|(i, _)| self.layers[*i].source.blocking().is_some())
        {
            // Files: read and encode in one trip to the blocking pool, on one thread.
            let (this, tms) = (self.clone(), tms.clone());
            return blocking::run(move |cancel| {
                this.read_and_encode(&tms, &planned, cancel)
                    .unwrap_or_else(|| Err(TileError::Internal("a reader went away".into())))
            })
            .await;
        }
        let reads = planned
            .iter()
            .map(|(i, p)| self.layers[*i].source.tile_features(&p.query));
        let features: Vec<TileFeatures> = futures_util::future::try_join_all(reads).await?;
        if features
            .iter()
            .all(|f| f.features.is_empty() && f.left_out.is_empty())
        {
            return Ok(Rendered::default());
        }
        let (this, tms) = (self.clone(), tms.clone());
        tokio::task::spawn_blocking(move || this.encode(&tms, &planned, &features))
            .await
            .map_err(|e| TileError::Internal(format!("encoding a tile: {e}")))?
    }
}

fn layer_info(l: &EngineLayer) -> TileLayerInfo {
    let info = l.source.info();
    let fields = &info.fields;
    let columns: Vec<usize> = match &l.tiling.at(l.tiling.max_zoom).properties {
        Some(cols) => cols.clone(),
        None => (0..fields.len()).collect(),
    };
    // An integer id property travels as the MVT feature id, not as a property.
    let id_only = info
        .id_field
        .filter(|&i| fields[i].kind == FieldType::Integer);
    let mut listed: Vec<(String, FieldType)> = (columns.into_iter())
        .filter(|&c| Some(c) != id_only)
        .map(|c| (fields[c].name.clone(), fields[c].kind))
        .collect();
    if l.tiling.stand_ins {
        listed.push((stand_in::COUNT.into(), FieldType::Integer));
        listed.push((stand_in::COVERAGE.into(), FieldType::Number));
    }
    TileLayerInfo {
        id: l.name.clone(),
        title: l.title.clone(),
        fields: listed,
        geometry_type: info.geometry_type.clone(),
        min_zoom: l.tiling.min_zoom,
        max_zoom: l.tiling.max_zoom,
        extent: info.extent,
    }
}

#[async_trait::async_trait]
impl TileSource for EngineTiles {
    fn info(&self) -> Arc<TileSourceInfo> {
        self.info.at(self.revision(), || info_of(&self.layers))
    }

    fn revision(&self) -> u64 {
        self.layers.iter().map(|l| l.source.revision()).sum()
    }

    /// The sum of the layers' revisions over the tile's query box (a layer that leaves the
    /// tile out adds nothing).
    fn revision_at(&self, tms: &TileMatrixSet, coord: TileCoord) -> u64 {
        (self.layers.iter())
            .map(|l| match query_box(tms, coord, &l.tiling) {
                Ok(Some(b)) => l.source.revision_in(&b),
                Ok(None) => 0,
                Err(_) => l.source.revision(),
            })
            .sum()
    }

    async fn tile(
        &self,
        tms: &TileMatrixSet,
        coord: TileCoord,
    ) -> Result<Option<Bytes>, TileError> {
        let r = self.render(tms, coord).await?;
        Ok((!r.bytes.is_empty()).then_some(r.bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::flatgeobuf::FlatGeobufSource;

    #[tokio::test]
    async fn blocking_and_async_renders_agree() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data/comuni_toscana.fgb");
        let engine = EngineTiles::new(vec![EngineLayer {
            name: "comuni".into(),
            title: "Comuni".into(),
            source: Arc::new(FlatGeobufSource::open(&path, &Default::default()).unwrap()),
            tiling: Tiling::default(),
        }]);
        let tms = TileMatrixSet::web_mercator_quad();
        for coord in [
            TileCoord { z: 7, x: 67, y: 46 },
            TileCoord {
                z: 10,
                x: 543,
                y: 374,
            },
            TileCoord { z: 10, x: 0, y: 0 },
        ] {
            let rendered = engine.render(&tms, coord).await.unwrap();
            let blocking = engine
                .render_blocking(&tms, coord, &Cancel::never())
                .expect("a file has blocking reads")
                .unwrap();
            assert_eq!(rendered.bytes, blocking.bytes, "{coord}");
            assert_eq!(rendered.features, blocking.features, "{coord}");
        }
        assert!(
            !engine
                .render_blocking(&tms, TileCoord { z: 7, x: 67, y: 46 }, &Cancel::never())
                .unwrap()
                .unwrap()
                .bytes
                .is_empty()
        );
    }
}
