"""Views: every chart, table and map of the dashboard defined once — its query (``metrics``), its
figure, its table, its caption and sentences, its 出典／調査時点 line — and rendered alike by the
pages (through ``ui``), 会議モード, PNG, PowerPoint and Excel (``exports``). No Streamlit here."""
