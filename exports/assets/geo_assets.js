// plotly.js fetches a world base map from cdn.plot.ly for every geo subplot, even when the base map
// is hidden (geo.visible = false). Exports draw municipalities from our own GeoJSON and must work
// offline, so the base maps are registered here as empty topologies before any figure is drawn.
(function () {
  var layers = ["land", "ocean", "lakes", "rivers", "coastlines", "countries", "subunits"];
  var empty = function () {
    var objects = {};
    layers.forEach(function (name) { objects[name] = {type: "GeometryCollection", geometries: []}; });
    return {type: "Topology", arcs: [], objects: objects};
  };
  window.PlotlyGeoAssets = window.PlotlyGeoAssets || {topojson: {}};
  window.PlotlyGeoAssets.topojson = window.PlotlyGeoAssets.topojson || {};
  ["world_110m", "world_50m"].forEach(function (name) { window.PlotlyGeoAssets.topojson[name] = empty(); });
})();
