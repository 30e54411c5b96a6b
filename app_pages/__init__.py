"""The app's pages, one file each: widgets and layout only; the logic lives in `core/`.

Not named `pages/`: with that name a fresh Streamlit server opens deep links such as /train
in its old folder-of-pages mode, bypassing app.py and its navigation.
"""
