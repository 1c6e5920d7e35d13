/* capmap choropleths: a layer's simplified geometry fetched by URL (cached by the server for
 * every page that shows the layer), coloured in the browser from the small table of values per
 * area code that the page carries. The page holds no geometry. Every text comes from the page and
 * is inserted with textContent, never as HTML. */
(function () {
  "use strict";

  var SCOTLAND = [[54.6, -8.0], [60.9, -0.7]];

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function data(holder, name) {
    return JSON.parse(holder.getAttribute("data-" + name) || "null");
  }

  function tip(labels, texts) {
    var box = el("div", "map-tip");
    labels.forEach(function (label, i) {
      var line = el("div");
      line.appendChild(el("strong", null, label + ": "));
      line.appendChild(document.createTextNode(texts[i] === undefined ? "–" : String(texts[i])));
      box.appendChild(line);
    });
    return box;
  }

  function draw(holder) {
    var map = L.map(holder, { maxZoom: 19 });
    var tiles = holder.getAttribute("data-tiles");
    if (tiles) {
      // The attribution is the site's own configuration, not user input.
      L.tileLayer(tiles, { attribution: holder.getAttribute("data-attribution") || "", maxZoom: 19 })
        .addTo(map);
    }
    map.fitBounds(SCOTLAND);
    var values = data(holder, "values") || {};
    var colours = data(holder, "colours") || [];
    var fields = data(holder, "fields") || [];
    var noData = holder.getAttribute("data-no-data") || "#cccccc";

    function style(feature) {
      var row = values[feature.properties.code];
      var band = row ? row[0] : null;
      return { color: "#555555", weight: 0.4, fillOpacity: 0.7,
               fillColor: band === null || band === undefined ? noData : colours[band] };
    }

    function describe(feature, layer) {
      layer.bindTooltip(function () {
        var p = feature.properties;
        var row = values[p.code] || [];
        return tip(fields, [p.name, p.code].concat(row.slice(1)));
      }, { sticky: true });
    }

    fetch(holder.getAttribute("data-areas-url"), { headers: { Accept: "application/json" },
                                                   credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (areas) {
        var layer = L.geoJSON(areas, { style: style, onEachFeature: describe }).addTo(map);
        if (layer.getBounds().isValid()) { map.fitBounds(layer.getBounds()); }
        holder.setAttribute("data-loaded", "true");
      })
      .catch(function () {
        holder.parentNode.insertBefore(el("p", "map-error", holder.getAttribute("data-failed")),
                                       holder.nextSibling);
        holder.setAttribute("data-loaded", "failed");
      });
  }

  document.querySelectorAll("[data-choropleth]").forEach(draw);
}());
