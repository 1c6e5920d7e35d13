/* capmap's one map client. Every map holder on a page ([data-map]) carries a small description
 * of its map (capmap.present.maps.spec): the bounds to fit, the basemap, and its layers bottom to top,
 * each naming where its geometry comes from (vector tiles, or a small GeoJSON by URL), how to
 * style it (fill by a property or by a table of values per area code), what its tip shows and
 * where a click goes. The page holds no geometry and this script holds no user-facing text: every
 * label comes from the description. Text is only ever inserted with textContent.
 *
 * A layer marked quiet has no tips or links (clicks reach the map: the pin map, the finder).
 * Other scripts reach a built map through holder.capmapMap (pins.js, finder.js), and make
 * elements holding text with window.capmapElement. */
(function () {
  "use strict";

  var MAX_TILE_ZOOM = 14;  // the server's deepest tiles; deeper zooms scale those up

  // Leaflet 1.8 removed L.DomEvent.fakeStop, which Leaflet.VectorGrid 1.3 calls on a click on a
  // canvas tile; stop() is what VectorGrid's own fix uses.
  if (window.L && L.DomEvent && !L.DomEvent.fakeStop) { L.DomEvent.fakeStop = L.DomEvent.stop; }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function lookup(rule, properties) {
    /* The colour a fill/colour rule gives a feature, or the rule's `otherwise`. */
    if (rule.by === "code") {
      var row = rule.values[properties.code];
      var band = row ? row[0] : null;
      return band === null || band === undefined ? rule.otherwise : rule.colours[band];
    }
    var value = properties[rule.by];
    var colour = value === null || value === undefined ? undefined : rule.colours[String(value)];
    return colour === undefined ? rule.otherwise : colour;
  }

  function admits(rule, properties) {
    return !rule || rule.values.indexOf(properties[rule.by]) !== -1;
  }

  function styleFor(spec) {
    var only = spec.only;
    var where = spec.where;
    return function (properties) {
      if (!admits(only, properties) || !admits(where, properties)) { return []; }
      var style = L.extend({}, spec.style);
      if (spec.fill) { style.fillColor = lookup(spec.fill, properties); }
      return style;
    };
  }

  function tipFor(spec, properties) {
    var box = el("div", "map-tip");
    // A code's words in the page's language (spec.words[field][code]), else the value itself.
    var words = spec.words || {};
    var lines = (spec.tip || []).map(function (pair) {
      var value = properties[pair[1]];
      return [pair[0], (words[pair[1]] || {})[value] || value];
    });
    if (spec.tip_values) {
      var row = (spec.fill.values[properties.code] || []).slice(1);
      spec.tip_values.forEach(function (label, i) { lines.push([label, row[i]]); });
    }
    lines.forEach(function (pair) {
      var line = el("div");
      line.appendChild(el("strong", null, pair[0] + ": "));
      var value = pair[1];
      line.appendChild(document.createTextNode(value === undefined || value === null || value === ""
        ? "–" : String(value)));
      box.appendChild(line);
    });
    return box;
  }

  function linkFor(spec, properties) {
    return spec.link.replace(/\{(\w+)\}/g, function (_m, name) {
      return encodeURIComponent(properties[name] === undefined ? "" : properties[name]);
    });
  }

  function interact(map, layer, spec, propertiesOf) {
    /* Tips on hover and links on click, for every feature of a layer. The tip of any feature's
     * properties is also layer.capmapTip(properties), for scripts that list what a map shows. */
    layer.capmapTip = function (properties) { return tipFor(spec, properties); };
    var tip = null;
    layer.on("mouseover", function (e) {
      if (tip) { map.closeTooltip(tip); }
      tip = L.tooltip({ direction: "top", offset: [0, -6] }).setLatLng(e.latlng)
        .setContent(tipFor(spec, propertiesOf(e))).addTo(map);
    });
    layer.on("mouseout", function () { if (tip) { map.closeTooltip(tip); tip = null; } });
    if (spec.link) {
      layer.on("click", function (e) { window.location.assign(linkFor(spec, propertiesOf(e))); });
    }
  }

  function tiledLayer(map, spec) {
    var styles = {};
    styles[spec.source] = styleFor(spec);
    var layer = L.vectorGrid.protobuf(spec.tiles, {
      vectorTileLayerStyles: styles,
      interactive: !spec.quiet,
      maxNativeZoom: MAX_TILE_ZOOM,
      maxZoom: 19,
      getFeatureId: function (feature) { return feature.properties[spec.id]; }
    });
    if (!spec.quiet) { interact(map, layer, spec, function (e) { return e.layer.properties; }); }
    return layer;
  }

  function readJSON(url) {
    return fetch(url, { headers: { Accept: "application/geo+json, application/json" },
                        credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); });
  }

  function geojsonLayer(map, spec, failed) {
    var options = { style: function () { return spec.style; }, interactive: !spec.quiet };
    if (spec.points) {
      options.pointToLayer = function (feature, latlng) {
        var late = (feature.properties || {}).overdue;
        return L.circleMarker(latlng, { radius: late ? 6 : 4, weight: 2, fillOpacity: 0.9,
          color: late ? "#b30000" : lookup(spec.colour, feature.properties),
          interactive: !spec.quiet });
      };
    }
    var layer = L.geoJSON(null, options);
    if (!spec.quiet) { interact(map, layer, spec, function (e) { return e.layer.feature.properties; }); }
    if (spec.data) {
      layer.addData(spec.data);
    } else {
      layer.ready = readJSON(spec.geojson).then(function (data) { layer.addData(data); })
        .catch(failed);
    }
    return layer;
  }

  function build(holder) {
    var spec = JSON.parse(holder.getAttribute("data-map"));
    // A still map (a moderator's view of one point) is a picture: no zooming, panning or keys.
    var still = !!spec.still;
    var map = L.map(holder, { maxZoom: 19, zoomControl: !still, dragging: !still,
                              scrollWheelZoom: !still, doubleClickZoom: !still, keyboard: !still,
                              attributionControl: !still || !!spec.basemap });
    if (spec.view) {
      map.setView([spec.view[1], spec.view[0]], spec.view[2]);
    } else {
      var b = spec.bounds;
      // Not past one level beyond the deepest tiles: enlarged tiles thicken their lines.
      map.fitBounds([[b[1], b[0]], [b[3], b[2]]], { maxZoom: MAX_TILE_ZOOM + 1 });
    }
    if (spec.basemap) {
      // The attribution is the site's own configuration, not user input.
      L.tileLayer(spec.basemap.url, { attribution: spec.basemap.attribution, maxZoom: 19 })
        .addTo(map);
    }
    var problems = 0;
    function failed() {
      if (problems++) { return; }
      holder.parentNode.insertBefore(el("p", "map-error", spec.failed), holder.nextSibling);
      holder.setAttribute("data-loaded", "failed");
    }
    var overlays = {};
    var built = [];
    var pending = [];
    spec.layers.forEach(function (layerSpec) {
      var layer = layerSpec.tiles ? tiledLayer(map, layerSpec) : geojsonLayer(map, layerSpec, failed);
      if (layerSpec.tiles) {
        layer.on("tileerror", failed);
        if (layerSpec.show) {
          pending.push(new Promise(function (done) { layer.once("load", done); }));
        }
      }
      if (layer.ready) { pending.push(layer.ready); }
      if (layerSpec.show) { layer.addTo(map); }
      // The layer control puts names in with innerHTML; a name is text (a layer's title may
      // come from an imported file), so it goes in escaped.
      overlays[el("span", null, layerSpec.name).innerHTML] = layer;
      layer.capmapSpec = layerSpec;
      built.push(layer);
    });
    if (spec.layers.length > 1) { L.control.layers(null, overlays, { collapsed: false }).addTo(map); }
    map.capmapLayers = built;
    holder.capmapMap = map;
    Promise.all(pending).then(function () {
      if (!problems) { holder.setAttribute("data-loaded", "true"); }
    });
    return map;
  }

  window.capmapElement = el;
  window.capmapMaps = [];
  document.querySelectorAll("[data-map]").forEach(function (holder) {
    window.capmapMaps.push(build(holder));
  });
}());
